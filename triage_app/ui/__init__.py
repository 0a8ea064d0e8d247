"""The Streamlit page: the only package that imports streamlit; thin layouts over the service and presentation."""
