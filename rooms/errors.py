"""Coded errors with messages in Dutch (first) and English, shared by HTTP, Socket.IO and the page."""
from __future__ import annotations

LANGUAGES = ("nl", "en")

# code -> (Dutch, English); {placeholders} are filled from the error's params.
MESSAGES: dict[str, tuple[str, str]] = {
    "name_missing": ("Vul je naam in.", "Please enter your name."),
    "name_too_long": ("Je naam mag hoogstens {max} tekens lang zijn.", "Your name can be at most {max} characters."),
    "name_control": ("Je naam bevat tekens die niet zijn toegestaan (zoals een regeleinde of tab).",
                     "Your name contains characters that are not allowed (such as a line break or tab)."),
    "name_invisible": ("Je naam moet letters of cijfers bevatten die je kunt zien.",
                       "Your name must contain letters or digits that can be seen."),
    "name_reserved": ("'{name}' lijkt op een naam van de organisatie (zoals Moderator); kies een andere naam.",
                      "'{name}' looks like a name of the organisers (such as Moderator); please choose another."),
    "bad_json": ("Het verzoek is geen geldig JSON-object.", "The request body is not a valid JSON object."),
    "help_too_many": ("Je hulpvraag heeft al {max} berichten; wacht op een antwoord of sluit hem en stel een nieuwe.",
                      "Your help request already has {max} messages; wait for an answer, or close it and ask anew."),
    "host_revoked": ("Een moderator heeft je de hostrechten van deze zaal afgenomen; vraag een moderator als dat niet "
                     "klopt.", "A moderator took your host rights for this room away; ask a moderator if that is wrong."),
    "remove_self": ("Je kunt jezelf niet uit de avond verwijderen.", "You cannot remove yourself from the evening."),
    "rate_limited": ("Even rustig aan: dit kan over {seconds} seconden weer.",
                     "Slow down a little: you can do this again in {seconds} seconds."),
    "bad_role_report": ("Deze melding over je rol in Jitsi klopt niet: geef de zaal en moderator, participant of none.",
                        "This report of your Jitsi role is not valid: give the room and moderator, participant or none."),
    "json_too_deep": ("Het verzoek is te diep genest (hoogstens {max} niveaus).",
                      "The request is nested too deeply (at most {max} levels)."),
    "cross_site": ("Dit verzoek kwam niet van een pagina van deze avond; open de pagina opnieuw en probeer het nog eens.",
                   "This request did not come from a page of this evening; open the page again and retry."),
    "reserved_event": ("'{event}' is voorbehouden aan Socket.IO zelf en kan niet worden verstuurd.",
                       "'{event}' is reserved for Socket.IO itself and cannot be sent."),
    "unknown_event": ("Onbekend bericht '{event}'.", "Unknown event '{event}'."),
    "bad_field": ("Het veld '{field}' ontbreekt of is ongeldig.", "The field '{field}' is missing or invalid."),
    "unauthorized": ("Je bent niet (meer) aangemeld voor deze avond.", "You are not signed in for this evening."),
    "moderator_only": ("Alleen een moderator mag dit doen.", "Only a moderator can do this."),
    "not_found": ("Deze avond bestaat niet.", "This evening does not exist."),
    "no_such_path": ("Dit adres bestaat niet.", "This address does not exist."),
    "method_not_allowed": ("Dit adres kan dat verzoek niet aan.", "This address does not accept that method."),
    "too_large": ("Het verzoek is te groot.", "The request is too large."),
    "http_error": ("Het verzoek kon niet worden verwerkt.", "The request could not be handled."),
    "bad_action": ("Onbekende klokactie '{action}'.", "Unknown clock action '{action}'."),
    "bad_minutes": ("Geef een aantal minuten van -{max} tot {max}, niet 0.",
                    "Give a number of minutes from -{max} to {max}, not 0."),
    "bad_speed": ("De snelheid moet tussen {min} en {max} liggen.", "The speed must be between {min} and {max}."),
    "already_running": ("'{title}' loopt al; gebruik volgende of vorige om de klok te verzetten.",
                        "'{title}' is already running; use next or back to move the clock."),
    "no_next_phase": ("De avond is afgelopen; er is geen volgend onderdeel.", "The evening is over; there is no next phase."),
    "no_previous_phase": ("Er is geen eerder onderdeel.", "There is no earlier phase."),
    "no_current_phase": ("Er loopt nu geen onderdeel om te verlengen.", "No phase is running, so there is nothing to extend."),
    "unknown_phase": ("'{phase}' is geen onderdeel van deze avond.", "'{phase}' is not a phase of this evening."),
    "already_ended": ("De avond is al afgelopen.", "The evening is already over."),
    "already_paused": ("De klok staat al stil.", "The clock is already paused."),
    "not_paused": ("De klok loopt al.", "The clock is not paused."),
    "not_running": ("Er is geen aftelling om stil te zetten.", "There is no countdown to pause."),
    "clock_busy": ("Een andere moderator verzette de klok net; probeer het opnieuw.",
                   "Another moderator just changed the clock; please try again."),
    "no_room": ("Je hebt nu geen zaal.", "You have no room right now."),
    "unknown_round": ("'{round}' is geen ronde van deze avond.", "'{round}' is not a round of this evening."),
    "unknown_session": ("'{session}' is geen sessie van ronde '{round}'.", "'{session}' is not a session of round '{round}'."),
    "session_full": ("'{title}' is vol. Kies een andere sessie.", "'{title}' is full. Please choose another session."),
    "round_over": ("'{title}' is al voorbij.", "'{title}' is already over."),
    "choices_locked": ("De keuzes voor '{title}' liggen vast.", "The choices for '{title}' are locked."),
    "switching_off": ("Tijdens '{title}' kun je niet van sessie wisselen.", "You cannot switch sessions during '{title}'."),
    "cannot_withdraw": ("'{title}' is bezig: kies een andere sessie in plaats van geen.",
                        "'{title}' is running: choose another session instead of none."),
    "bad_link": ("Deze persoonlijke link is niet (meer) geldig.", "This personal link is not (or no longer) valid."),
    "unknown_participant": ("Deze deelnemer bestaat niet (meer).", "This participant does not exist."),
    "no_running_round": ("Er loopt nu geen ronde; geef aan om welke ronde het gaat.",
                         "No round is running; say which round you mean."),
    "session_not_running": ("Die sessie is nu niet bezig; een bericht kan alleen naar een zaal van de lopende ronde.",
                            "That session is not running now; a message can only go to a room of the running round."),
    "signup_closed": ("Aanmelden voor deze avond is gesloten.", "Sign-up for this evening is closed."),
    "key_configured": ("De moderatorsleutel staat in de instellingen (PLEIN_MODERATOR_KEY); verander hem daar.",
                       "The moderator key is set in the configuration (PLEIN_MODERATOR_KEY); change it there."),
    "cookie_only": ("Dit kan alleen vanuit de moderatorpagina.", "This can only be done from the moderator page."),
    "host_only": ("Dat mag alleen een moderator, of de host van deze zaal.", "Only a moderator, or this room's host, can do that."),
    "message_missing": ("Schrijf een bericht.", "Please write a message."),
    "message_too_long": ("Een bericht mag hoogstens {max} tekens lang zijn.", "A message can be at most {max} characters."),
    "message_control": ("Het bericht bevat tekens die niet zijn toegestaan.", "The message contains characters that are not allowed."),
    "help_missing": ("Schrijf kort waar je hulp bij nodig hebt.", "Please say briefly what you need help with."),
    "help_too_long": ("Je vraag mag hoogstens {max} tekens lang zijn.", "Your question can be at most {max} characters."),
    "help_control": ("Je vraag bevat tekens die niet zijn toegestaan.", "Your question contains characters that are not allowed."),
    "unknown_help": ("Deze hulpvraag bestaat niet (meer).", "This help request does not exist."),
    "help_done_already": ("Deze hulpvraag is al afgehandeld.", "This help request has already been dealt with."),
    # brainstorm notes and idea cards
    "no_such_session": ("'{session}' is geen sessie van deze avond.", "'{session}' is not a session of this evening."),
    "not_brainstorm": ("'{title}' is geen brainstorm; er zijn geen notities.", "'{title}' is not a brainstorm; it has no notes."),
    "notes_forbidden": ("De notities van '{title}' zijn alleen voor wie in die sessie zit, tot de ronde voorbij is.",
                        "The notes of '{title}' are only for those in that session until the round is over."),
    "notes_not_open": ("De notities gaan open als de sessie begint; tot dan kun je alleen lezen.",
                       "The notes open when the session starts; until then they are read-only."),
    "notes_closed": ("De sessie is voorbij: de notities en ideeën zijn nu alleen te lezen.",
                     "The session is over: the notes and ideas are now read-only."),
    "notes_not_joined": ("Open eerst de notities van deze sessie.", "Open this session's notes first."),
    "note_update_too_large": ("Deze wijziging is te groot (hoogstens {max} bytes); plak minder tekst tegelijk.",
                              "This change is too large (at most {max} bytes); paste less text at once."),
    "note_too_large": ("De notities zijn vol (hoogstens {max} bytes); deze wijziging is niet bewaard.",
                       "The notes are full (at most {max} bytes); this change was not saved."),
    "notes_rate_limited": ("Te veel wijzigingen tegelijk (hoogstens {max} per seconde); deze is niet bewaard.",
                           "Too many changes at once (at most {max} per second); this one was not saved."),
    "note_message_malformed": ("Dit notitiebericht is onleesbaar en is genegeerd.",
                               "This notes message could not be read and was ignored."),
    "note_update_early": ("Deze wijziging bouwt voort op tekst die de server nog niet heeft; hij vraagt die zo op.",
                          "This change builds on text the server does not have yet; it will ask for it shortly."),
    "note_update_foreign": ("Deze wijziging is geen tekst voor deze notities en is niet bewaard.",
                            "This change is not text for these notes and was not saved."),
    "notes_person_minute": ("Je hebt deze minuut al veel tekst geplaatst (hoogstens {max} kB per minuut); "
                            "de rest gaat de volgende minuut mee.",
                            "You have added a lot of text this minute (at most {max} kB a minute); "
                            "the rest follows next minute."),
    "notes_person_full": ("Je hebt in deze notities al het maximum geschreven ({max} kB); laat ruimte voor de anderen.",
                          "You have written the most one person may in these notes ({max} kB); leave room for the others."),
    "notes_awareness_too_large": ("Te veel cursors of te grote cursorgegevens (hoogstens {clients} per verbinding, "
                                  "{max} bytes elk); genegeerd.",
                                  "Too many cursors or too much cursor data (at most {clients} per connection, "
                                  "{max} bytes each); ignored."),
    "unknown_snapshot": ("Deze eerdere versie van de notities bestaat niet (meer).",
                         "This earlier version of the notes does not exist (any more)."),
    "card_missing": ("Schrijf je idee op.", "Please write your idea."),
    "card_too_long": ("Een idee mag hoogstens {max} tekens lang zijn.", "An idea can be at most {max} characters."),
    "card_control": ("Je idee bevat tekens die niet zijn toegestaan.", "Your idea contains characters that are not allowed."),
    "card_not_yours": ("Je kunt alleen je eigen ideeën wijzigen of intrekken.", "You can only edit or withdraw your own ideas."),
    "unknown_card": ("Dit idee bestaat niet (meer).", "This idea does not exist (any more)."),
    "cards_too_many": ("Je hebt hier al {max} ideeën staan; trek er een in om een nieuw te plaatsen.",
                       "You already have {max} ideas here; withdraw one to post another."),
    "busy": ("Het is even druk; probeer het opnieuw.", "It is busy right now; please try again."),
    "storage_full": ("De opslag van de server is vol; dit is niet bewaard.",
                     "The server's storage is full; this was not saved."),
    "redis_down": ("De server kan zijn opslag even niet bereiken; probeer het zo opnieuw.",
                   "The server cannot reach its storage right now; please try again shortly."),
    # -- helper B
    "bad_lifetime": ("Kies hoe lang het bericht blijft staan: {allowed}.",
                     "Choose how long the message stays: {allowed}."),
}


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
        nl, en = MESSAGES.get(self.code, (self.code, self.code))
        template = en if lang == "en" else nl
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template

    def to_dict(self, lang: str = "nl") -> dict:
        return {"error": {"code": self.code, "message": self.message(lang), **self.details}}
