"""Notification texts in the owner's language (the one chosen in the web UI when saving)."""
from __future__ import annotations

from hems.notify.message import Kind

LANGUAGES = ("en", "de", "nl", "fr")

TEXTS: dict[str, dict[Kind, tuple[str, str]]] = {
    "en": {
        Kind.TARGET_UNREACHABLE: ("Car will not be ready", "The car cannot reach {target} by {departure}: about {short} short."),
        Kind.NOT_PLUGGED: ("Car not plugged in", "It is {time} and the car is not plugged in. Plug it in to be ready for your next trip."),
        Kind.DEVICE_OFFLINE: ("Device not answering", "{device} does not answer. hems keeps the car safe (no discharging) until it is back."),
        Kind.AGGREGATOR_EVENT: ("Aggregator event accepted", "From {start} to {end} the aggregator uses the car battery. hems adjusted the plan."),
        Kind.PRICE_SPIKE: ("Electricity is expensive now", "The price is {price} per kWh, above your alert at {limit}."),
        Kind.UPDATE_AVAILABLE: ("Update available", "hems {version} is available."),
        Kind.TEST: ("Test", "This is a test from hems: notifications reach you here."),
    },
    "de": {
        Kind.TARGET_UNREACHABLE: ("Auto wird nicht bereit sein", "Das Auto erreicht {target} nicht bis {departure}: es fehlen etwa {short}."),
        Kind.NOT_PLUGGED: ("Auto nicht eingesteckt", "Es ist {time} und das Auto ist nicht eingesteckt. Stecken Sie es ein, damit es für die nächste Fahrt bereit ist."),
        Kind.DEVICE_OFFLINE: ("Gerät antwortet nicht", "{device} antwortet nicht. hems hält das Auto sicher (kein Entladen), bis es wieder da ist."),
        Kind.AGGREGATOR_EVENT: ("Aggregator-Einsatz angenommen", "Von {start} bis {end} nutzt der Aggregator die Autobatterie. hems hat den Plan angepasst."),
        Kind.PRICE_SPIKE: ("Strom ist gerade teuer", "Der Preis ist {price} pro kWh, über Ihrer Grenze von {limit}."),
        Kind.UPDATE_AVAILABLE: ("Update verfügbar", "hems {version} ist verfügbar."),
        Kind.TEST: ("Test", "Dies ist ein Test von hems: Benachrichtigungen erreichen Sie hier."),
    },
    "nl": {
        Kind.TARGET_UNREACHABLE: ("Auto is niet op tijd klaar", "De auto haalt {target} niet vóór {departure}: ongeveer {short} te weinig."),
        Kind.NOT_PLUGGED: ("Auto niet aangesloten", "Het is {time} en de auto is niet aangesloten. Sluit hem aan om klaar te zijn voor je volgende rit."),
        Kind.DEVICE_OFFLINE: ("Apparaat reageert niet", "{device} reageert niet. hems houdt de auto veilig (niet ontladen) tot het terug is."),
        Kind.AGGREGATOR_EVENT: ("Aggregator-opdracht aanvaard", "Van {start} tot {end} gebruikt de aggregator de autobatterij. hems heeft het plan aangepast."),
        Kind.PRICE_SPIKE: ("Stroom is nu duur", "De prijs is {price} per kWh, boven je grens van {limit}."),
        Kind.UPDATE_AVAILABLE: ("Update beschikbaar", "hems {version} is beschikbaar."),
        Kind.TEST: ("Test", "Dit is een test van hems: meldingen komen hier aan."),
    },
    "fr": {
        Kind.TARGET_UNREACHABLE: ("La voiture ne sera pas prête", "La voiture n'atteindra pas {target} avant {departure} : il manquera environ {short}."),
        Kind.NOT_PLUGGED: ("Voiture non branchée", "Il est {time} et la voiture n'est pas branchée. Branchez-la pour être prêt pour le prochain trajet."),
        Kind.DEVICE_OFFLINE: ("Un appareil ne répond pas", "{device} ne répond pas. hems garde la voiture en sécurité (pas de décharge) jusqu'à son retour."),
        Kind.AGGREGATOR_EVENT: ("Événement de l'agrégateur accepté", "De {start} à {end}, l'agrégateur utilise la batterie de la voiture. hems a adapté le plan."),
        Kind.PRICE_SPIKE: ("L'électricité est chère", "Le prix est de {price} par kWh, au-dessus de votre seuil de {limit}."),
        Kind.UPDATE_AVAILABLE: ("Mise à jour disponible", "hems {version} est disponible."),
        Kind.TEST: ("Test", "Ceci est un test de hems : les notifications vous parviennent ici."),
    },
}

DEVICES = {
    "en": {"meter": "The home meter", "pv": "The solar inverter", "charger": "The car charger"},
    "de": {"meter": "Der Hauszähler", "pv": "Der Solar-Wechselrichter", "charger": "Die Ladestation"},
    "nl": {"meter": "De huismeter", "pv": "De omvormer", "charger": "De laadpaal"},
    "fr": {"meter": "Le compteur", "pv": "L'onduleur solaire", "charger": "La borne de recharge"},
}


def render(language: str, kind: Kind, **values: str) -> tuple[str, str]:
    """(title, message) in `language` (English when hems does not speak it)."""
    title, message = TEXTS.get(language, TEXTS["en"])[kind]
    return title, message.format(**values)


def device_name(language: str, role: str, fallback: str) -> str:
    return DEVICES.get(language, DEVICES["en"]).get(role, fallback)
