"""Coded errors with messages in Dutch (first) and every other language of the catalogues, shared by HTTP,
Socket.IO and the page."""
from __future__ import annotations

from .i18n import M, gettext

# code -> its message: the Dutch text is the gettext source, the code its context; {placeholders} come from
# the error's params. English and any other language: rooms/translations/<lang>/LC_MESSAGES/messages.po.
MESSAGES: dict[str, str] = dict([
    M("name_missing", "Vul je naam in."),
    M("name_too_long", "Je naam mag hoogstens {max} tekens lang zijn."),
    M("name_control", "Je naam bevat tekens die niet zijn toegestaan (zoals een regeleinde of tab)."),
    M("name_invisible", "Je naam moet letters of cijfers bevatten die je kunt zien."),
    M("name_reserved", "'{name}' lijkt op een naam van de organisatie (zoals Moderator); kies een andere naam."),
    M("bad_json", "Het verzoek is geen geldig JSON-object."),
    M("help_too_many", "Je hulpvraag heeft al {max} berichten; wacht op een antwoord of sluit hem en stel een nieuwe."),
    M("host_revoked",
        "Een moderator heeft je de hostrechten van deze zaal afgenomen; vraag een moderator als dat niet klopt."),
    M("remove_self", "Je kunt jezelf niet uit de avond verwijderen."),
    M("rate_limited", "Even rustig aan: dit kan over {seconds} seconden weer."),
    M("bad_role_report",
        "Deze melding over je rol in Jitsi klopt niet: geef de zaal en moderator, participant of none."),
    M("json_too_deep", "Het verzoek is te diep genest (hoogstens {max} niveaus)."),
    M("cross_site",
        "Dit verzoek kwam niet van een pagina van deze avond; open de pagina opnieuw en probeer het nog eens."),
    M("reserved_event", "'{event}' is voorbehouden aan Socket.IO zelf en kan niet worden verstuurd."),
    M("unknown_event", "Onbekend bericht '{event}'."),
    M("bad_field", "Het veld '{field}' ontbreekt of is ongeldig."),
    M("unauthorized", "Je bent niet (meer) aangemeld voor deze avond."),
    M("moderator_only", "Alleen een moderator mag dit doen."),
    M("not_found", "Deze avond bestaat niet."),
    M("no_such_path", "Dit adres bestaat niet."),
    M("method_not_allowed", "Dit adres kan dat verzoek niet aan."),
    M("too_large", "Het verzoek is te groot."),
    M("http_error", "Het verzoek kon niet worden verwerkt."),
    M("bad_action", "Onbekende klokactie '{action}'."),
    M("bad_minutes", "Geef een aantal minuten van -{max} tot {max}, niet 0."),
    M("bad_speed", "De snelheid moet tussen {min} en {max} liggen."),
    M("already_running", "'{title}' loopt al; gebruik volgende of vorige om de klok te verzetten."),
    M("no_next_phase", "De avond is afgelopen; er is geen volgend onderdeel."),
    M("no_previous_phase", "Er is geen eerder onderdeel."),
    M("no_current_phase", "Er loopt nu geen onderdeel om te verlengen."),
    M("unknown_phase", "'{phase}' is geen onderdeel van deze avond."),
    M("already_ended", "De avond is al afgelopen."),
    M("already_paused", "De klok staat al stil."),
    M("not_paused", "De klok loopt al."),
    M("not_running", "Er is geen aftelling om stil te zetten."),
    M("clock_busy", "Een andere moderator verzette de klok net; probeer het opnieuw."),
    M("no_room", "Je hebt nu geen zaal."),
    M("unknown_round", "'{round}' is geen ronde van deze avond."),
    M("unknown_session", "'{session}' is geen sessie van ronde '{round}'."),
    M("session_full", "'{title}' is vol. Kies een andere sessie."),
    M("round_over", "'{title}' is al voorbij."),
    M("choices_locked", "De keuzes voor '{title}' liggen vast."),
    M("switching_off", "Tijdens '{title}' kun je niet van sessie wisselen."),
    M("cannot_withdraw", "'{title}' is bezig: kies een andere sessie in plaats van geen."),
    M("bad_link", "Deze persoonlijke link is niet (meer) geldig."),
    M("unknown_participant", "Deze deelnemer bestaat niet (meer)."),
    M("no_running_round", "Er loopt nu geen ronde; geef aan om welke ronde het gaat."),
    M("session_not_running", "Die sessie is nu niet bezig; een bericht kan alleen naar een zaal van de lopende ronde."),
    M("signup_closed", "Aanmelden voor deze avond is gesloten."),
    M("key_configured", "De moderatorsleutel staat in de instellingen (PLEIN_MODERATOR_KEY); verander hem daar."),
    M("cookie_only", "Dit kan alleen vanuit de moderatorpagina."),
    M("host_only", "Dat mag alleen een moderator, of de host van deze zaal."),
    M("message_missing", "Schrijf een bericht."),
    M("message_too_long", "Een bericht mag hoogstens {max} tekens lang zijn."),
    M("message_control", "Het bericht bevat tekens die niet zijn toegestaan."),
    M("help_missing", "Schrijf kort waar je hulp bij nodig hebt."),
    M("help_too_long", "Je vraag mag hoogstens {max} tekens lang zijn."),
    M("help_control", "Je vraag bevat tekens die niet zijn toegestaan."),
    M("unknown_help", "Deze hulpvraag bestaat niet (meer)."),
    M("help_done_already", "Deze hulpvraag is al afgehandeld."),
    M("no_such_session", "'{session}' is geen sessie van deze avond."),
    M("not_brainstorm", "'{title}' is geen brainstorm; er zijn geen notities."),
    M("notes_forbidden", "De notities van '{title}' zijn alleen voor wie in die sessie zit, tot de ronde voorbij is."),
    M("notes_not_open", "De notities gaan open als de sessie begint; tot dan kun je alleen lezen."),
    M("notes_closed", "De sessie is voorbij: de notities en ideeën zijn nu alleen te lezen."),
    M("notes_not_joined", "Open eerst de notities van deze sessie."),
    M("note_update_too_large", "Deze wijziging is te groot (hoogstens {max} bytes); plak minder tekst tegelijk."),
    M("note_too_large", "De notities zijn vol (hoogstens {max} bytes); deze wijziging is niet bewaard."),
    M("notes_rate_limited", "Te veel wijzigingen tegelijk (hoogstens {max} per seconde); deze is niet bewaard."),
    M("note_message_malformed", "Dit notitiebericht is onleesbaar en is genegeerd."),
    M("note_update_early", "Deze wijziging bouwt voort op tekst die de server nog niet heeft; hij vraagt die zo op."),
    M("note_update_foreign", "Deze wijziging is geen tekst voor deze notities en is niet bewaard."),
    M("notes_person_minute",
        "Je hebt deze minuut al veel tekst geplaatst (hoogstens {max} kB per minuut); de rest gaat de volgende "
        "minuut mee."),
    M("notes_person_full",
        "Je hebt in deze notities al het maximum geschreven ({max} kB); laat ruimte voor de anderen."),
    M("notes_awareness_too_large",
        "Te veel cursors of te grote cursorgegevens (hoogstens {clients} per verbinding, {max} bytes elk); "
        "genegeerd."),
    M("unknown_snapshot", "Deze eerdere versie van de notities bestaat niet (meer)."),
    M("card_missing", "Schrijf je idee op."),
    M("card_too_long", "Een idee mag hoogstens {max} tekens lang zijn."),
    M("card_control", "Je idee bevat tekens die niet zijn toegestaan."),
    M("card_not_yours", "Je kunt alleen je eigen ideeën wijzigen of intrekken."),
    M("unknown_card", "Dit idee bestaat niet (meer)."),
    M("cards_too_many", "Je hebt hier al {max} ideeën staan; trek er een in om een nieuw te plaatsen."),
    M("busy", "Het is even druk; probeer het opnieuw."),
    M("storage_full", "De opslag van de server is vol; dit is niet bewaard."),
    M("server_error", "Er ging iets mis op de server."),
    M("redis_down", "De server kan zijn opslag even niet bereiken; probeer het zo opnieuw."),
    M("bad_lifetime", "Kies hoe lang het bericht blijft staan: {allowed}."),
])


class PleinError(Exception):
    """An error with a stable code, an HTTP status and parameters for its message."""

    status = 400

    def __init__(self, code: str, status: int | None = None, details: dict | None = None, **params):
        self.code = code
        self.params = params
        self.details = details or {}  # extra fields for clients, next to code and message
        if status is not None:
            self.status = status
        super().__init__(self.message("en"))

    def message(self, lang: str = "nl") -> str:
        text = MESSAGES.get(self.code)
        template = gettext(lang, self.code, text) if text else self.code
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template

    def to_dict(self, lang: str = "nl") -> dict:
        return {"error": {"code": self.code, "message": self.message(lang), **self.details}}
