"""A Streamlit session over its websocket, as the browser drives it: for the load benchmark (``bench.charge``) and
the tests of what a real server does between taps (fragments, idle lock).

The client speaks Streamlit's own protocol (``/_stcore/stream``, protobuf ``BackMsg`` / ``ForwardMsg``) with the
server's own message classes. Like the page in a browser it keeps the values of the widgets it was shown (the
server's ``default`` on first sight, its ``set_value`` later, the user's taps), sends them all with each rerun,
follows the page's query string and page (``st.switch_page``, ``st.query_params``) and answers the fragments' auto
reruns (the page's 30 s idle check). No browser: a tap costs the server what a tablet's tap costs it, and the
client measures the time from its message to the run's end (``script_finished``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Streamlit's own message classes (the wire protocol), not its page API.
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: TID251
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: TID251
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: TID251

# Widget ids carry the user's key: « $$ID-<hash>-<key> ».
_ID = re.compile(r"^\$\$ID-[0-9a-f]+-(?P<cle>.+)$")
_FIN = ForwardMsg.ScriptFinishedStatus
_ORIENTATION = re.compile(r'class="orientation[^"]*" data-orientation="(\w*)"')


class SessionPerdue(RuntimeError):
    """The websocket closed, or a run did not end in time."""


@dataclass
class Widget:
    """A widget as the last run drew it."""

    cle: str
    id: str
    genre: str  # the element's type: button, button_group, text_input, checkbox, selectbox…
    proto: Any
    options: list[str] = field(default_factory=list)
    fragment: str = ""  # the fragment that drew it: a tap on it reruns that fragment only, as in the browser


@dataclass
class Tour:
    """What one run (a tap's answer) showed."""

    duree_ms: float
    widgets: dict[str, Widget]
    erreurs: list[str]
    exceptions: list[str]
    textes: list[str]
    fragment: bool = False  # only a fragment ran (the rest of the page was not rebuilt)

    @property
    def orientation(self) -> str | None:
        for texte in self.textes:
            if trouve := _ORIENTATION.search(texte):
                return trouve.group(1)
        return None


class SessionStreamlit:
    """One browser tab's session, driven tap by tap (one tap at a time, as a finger does)."""

    def __init__(self, url: str, ssl: Any = None, delai_s: float = 60.0, chemin: str = "/") -> None:
        self.url = url.rstrip("/")
        self.ssl = ssl
        self.delai_s = delai_s
        self.chemin = chemin
        self.ws: Any = None
        self.page_hash = ""
        self.query = ""
        self.valeurs: dict[str, WidgetState] = {}  # widget id → the value the page holds (not triggers)
        self.widgets: dict[str, Widget] = {}
        self.auto_reruns: dict[str, float] = {}  # fragment id → interval (s)
        self._recus: asyncio.Queue[ForwardMsg] = asyncio.Queue()
        self._lecteur: asyncio.Task[None] | None = None
        self.cookies = ""
        self._fragment_en_cours: str | None = None

    # -- connection ---------------------------------------------------------------------------------
    async def ouvrir(self) -> Tour:
        """Open the websocket (after the page's HTML, as a browser does: it sets the cookies) and run the page."""
        import websockets

        await asyncio.get_running_loop().run_in_executor(None, self._charger_html)
        adresse = urlsplit(self.url)
        ws_url = ("wss" if adresse.scheme == "https" else "ws") + f"://{adresse.netloc}/_stcore/stream"
        entetes = {"Origin": f"{adresse.scheme}://{adresse.netloc}"}
        if self.cookies:
            entetes["Cookie"] = self.cookies
        self.ws = await websockets.connect(ws_url, subprotocols=["streamlit"], additional_headers=entetes,
                                           ssl=self.ssl, max_size=None, open_timeout=self.delai_s,
                                           ping_interval=None, compression=None)
        self._lecteur = asyncio.create_task(self._lire())
        if self.chemin.strip("/"):
            self.page_hash = ""
        return await self.executer()

    def _charger_html(self) -> None:
        """GET the page (the proxy's sticky cookie, Streamlit's XSRF cookie), as a browser's first request."""
        import http.cookiejar
        import urllib.request

        jarre = http.cookiejar.CookieJar()
        ouvreur = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jarre),
                                              urllib.request.HTTPSHandler(context=self.ssl))
        with ouvreur.open(self.url + self.chemin, timeout=self.delai_s) as reponse:
            reponse.read()
        self.cookies = "; ".join(f"{c.name}={c.value}" for c in jarre)

    async def fermer(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._lecteur is not None:
            self._lecteur.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # closing: whatever it ended with
                await self._lecteur

    async def _lire(self) -> None:
        try:
            async for donnees in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(donnees)
                await self._recus.put(msg)
        finally:
            await self._recus.put(ForwardMsg())  # an empty message: the connection is gone

    # -- taps ----------------------------------------------------------------------------------------
    def widget(self, cle: str) -> Widget:
        w = self.widgets.get(cle)
        if w is None:
            raise KeyError(f"pas de widget « {cle} » sur la page ({', '.join(sorted(self.widgets))})")
        return w

    def a(self, cle: str) -> bool:
        return cle in self.widgets

    def valeur(self, cle: str) -> Any:
        """The widget's value as the page holds it (labels for choices)."""
        w = self.widgets.get(cle)
        etat = self.valeurs.get(w.id) if w else None
        if etat is None:
            return None
        genre = etat.WhichOneof("value")
        if genre == "string_array_value":
            return list(etat.string_array_value.data)
        return getattr(etat, genre) if genre else None

    def regler(self, cle: str, valeur: Any) -> None:
        """Set a widget's value without a run (a form's fields before its submit button)."""
        w = self.widget(cle)
        etat = WidgetState(id=w.id)
        if w.genre == "button_group":
            if valeur not in w.options:
                raise ValueError(f"« {valeur} » n'est pas un choix de {cle} ({w.options})")
            etat.string_array_value.data[:] = [valeur]
        elif w.genre == "checkbox":
            etat.bool_value = bool(valeur)
        elif w.genre in ("text_input", "text_area", "selectbox"):
            etat.string_value = str(valeur)
        else:
            raise ValueError(f"widget {cle} ({w.genre}) non pris en charge")
        self.valeurs[w.id] = etat

    async def choisir(self, cle: str, valeur: Any) -> Tour:
        """Tap a choice (or type into a field outside a form): the value and a run."""
        self.regler(cle, valeur)
        return await self.executer(fragment=self.widget(cle).fragment or None)

    async def taper(self, cle: str) -> Tour:
        """Tap a button (a form's submit button sends the form's fields with it)."""
        w = self.widget(cle)
        return await self.executer(declencheur=WidgetState(id=w.id, trigger_value=True), fragment=w.fragment or None)

    async def executer(self, declencheur: WidgetState | None = None, fragment: str | None = None,
                       auto: bool = False) -> Tour:
        """Send a rerun with the page's widget values (and a trigger) and wait for the run's end. ``fragment``: the
        fragment to rerun (a tap on one of its widgets, or its timer with ``auto``), as the page sends it."""
        msg = BackMsg()
        etat = msg.rerun_script
        etat.query_string = self.query
        etat.page_script_hash = self.page_hash
        etats = [v for i, v in self.valeurs.items() if declencheur is None or i != declencheur.id]
        if declencheur is not None:
            etats.append(declencheur)
        etat.widget_states.widgets.extend(etats)
        if fragment is not None:
            etat.fragment_id = fragment
            etat.is_auto_rerun = auto
        debut = time.perf_counter()
        self._fragment_en_cours = fragment
        await self.ws.send(msg.SerializeToString())
        return await self._attendre_fin(debut)

    async def _attendre_fin(self, debut: float) -> Tour:
        widgets: dict[str, Widget] = {}
        erreurs: list[str] = []
        exceptions: list[str] = []
        textes: list[str] = []
        limite = time.monotonic() + self.delai_s
        while True:
            reste = limite - time.monotonic()
            if reste <= 0:
                raise SessionPerdue(f"pas de fin de run après {self.delai_s:.0f} s")
            try:
                msg = await asyncio.wait_for(self._recus.get(), reste)
            except TimeoutError:
                raise SessionPerdue(f"pas de fin de run après {self.delai_s:.0f} s") from None
            genre = msg.WhichOneof("type")
            if genre is None:
                raise SessionPerdue("connexion fermée par le serveur")
            if genre == "new_session":
                widgets, erreurs, exceptions, textes = {}, [], [], []
                if msg.new_session.page_script_hash:
                    self.page_hash = msg.new_session.page_script_hash
            elif genre == "navigation":
                if msg.navigation.page_script_hash:
                    self.page_hash = msg.navigation.page_script_hash
            elif genre == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif genre == "auto_rerun":
                self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif genre == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element, msg.delta.fragment_id, widgets, erreurs, exceptions, textes)
            elif genre == "script_finished":
                statut = msg.script_finished
                if statut == _FIN.FINISHED_EARLY_FOR_RERUN:
                    continue
                duree = (time.perf_counter() - debut) * 1000
                if statut == _FIN.FINISHED_SUCCESSFULLY:
                    self.widgets = widgets
                elif statut == _FIN.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                    # The fragments that ran drew their widgets again; the rest of the page stays as it was.
                    refaits = {w.fragment for w in widgets.values()} | {f for f in (self._fragment_en_cours,) if f}
                    self.widgets = {c: w for c, w in self.widgets.items() if w.fragment not in refaits} | widgets
                # Like the page: widgets no longer drawn lose their values.
                ids = {w.id for w in self.widgets.values()}
                self.valeurs = {i: v for i, v in self.valeurs.items() if i in ids}
                if statut == _FIN.FINISHED_WITH_COMPILE_ERROR:
                    exceptions.append("erreur de compilation du script")
                return Tour(duree, dict(self.widgets), erreurs, exceptions, textes,
                            fragment=statut == _FIN.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)

    def _element(self, el: Any, fragment: str, widgets: dict[str, Widget], erreurs: list[str], exceptions: list[str],
                 textes: list[str]) -> None:
        genre = el.WhichOneof("type")
        if genre == "alert":
            if el.alert.format == el.alert.ERROR:
                erreurs.append(el.alert.body)
            return
        if genre == "exception":
            exceptions.append(f"{el.exception.type}: {el.exception.message}")
            return
        if genre in ("html", "markdown"):
            textes.append(getattr(el, genre).body)
            return
        proto = getattr(el, genre) if genre else None
        wid = getattr(proto, "id", "") if proto is not None else ""
        trouve = _ID.match(wid) if isinstance(wid, str) else None
        if trouve is None:
            return
        w = Widget(trouve["cle"], wid, genre, proto, fragment=fragment)
        if genre == "button_group":
            w.options = [o.content for o in proto.options]
            if proto.set_value:
                self._valeur_serveur(wid).string_array_value.data[:] = list(proto.raw_values)
            elif wid not in self.valeurs:
                self._valeur_serveur(wid).string_array_value.data[:] = [w.options[i] for i in proto.default]
        elif genre == "checkbox":
            if proto.set_value or wid not in self.valeurs:
                self._valeur_serveur(wid).bool_value = proto.value if proto.set_value else proto.default
        elif genre in ("text_input", "text_area"):
            if proto.set_value or wid not in self.valeurs:
                texte = proto.value if proto.set_value else proto.default
                if texte or proto.set_value:
                    self._valeur_serveur(wid).string_value = texte
        elif genre == "selectbox":
            w.options = list(proto.options)
        widgets[w.cle] = w

    def _valeur_serveur(self, wid: str) -> WidgetState:
        etat = WidgetState(id=wid)
        self.valeurs[wid] = etat
        return etat
