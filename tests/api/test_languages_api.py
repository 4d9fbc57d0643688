"""API errors in the caller's language (issue 19): Accept-Language or ?locale= picks it as the
pages do; without either the answers are English, byte for byte as before.  Keys, machine
codes ("not-found"), status codes and shapes never change."""

from __future__ import annotations

import pytest

EMPTY = {"push": {"payload": " "}}
FIELDS_422 = {"push": {"payload": " ", "expire_after_views": 1000}}


def test_a_422_names_each_field_in_french_and_arabic_with_the_same_keys_and_status(api):
    english = api.post("/api/v2/pushes", json=FIELDS_422)
    french = api.post("/api/v2/pushes", json=FIELDS_422, headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    arabic = api.post("/api/v2/pushes?locale=ar", json=FIELDS_422)
    assert english.status_code == french.status_code == arabic.status_code == 422
    assert english.json()["payload"] == ["Enter the secret to share."]
    assert english.json()["expire_after_views"] == ["Views must be a whole number from 1 to 100."]
    assert set(french.json()) == set(arabic.json()) == set(english.json()) == {"error", "payload", "expire_after_views"}
    assert french.json()["payload"] == ["Saisissez le secret à partager."]
    # The values are filled in after translation.
    assert french.json()["expire_after_views"] == ["Les vues doivent être un nombre entier de 1 à 100."]
    assert french.json()["error"] == "Saisissez le secret à partager. Les vues doivent être un nombre entier de 1 à 100."
    assert arabic.json()["payload"] == ["أدخل السر الذي تريد مشاركته."]
    assert arabic.json()["expire_after_views"] == ["يجب أن يكون عدد المشاهدات عددًا صحيحًا من 1 إلى 100."]
    assert arabic.headers["content-type"] == english.headers["content-type"] == "application/json; charset=utf-8"


def test_a_404_in_french_and_arabic_and_machine_codes_stay_as_they_are(api):
    for language, words in (("fr", "Ce téléchargement a expiré ou n'a jamais existé."),
                            ("ar", "انتهت صلاحية هذا التنزيل أو لم يكن موجودًا قط.")):
        download = api.get("/d/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/0", headers={"Accept-Language": language})
        assert download.status_code == 404
        assert download.json()["error"].startswith(words)
        # "not-found" is a code scripts match, not a sentence: the same in every language.
        unknown = api.get("/api/v2/pushes/AAAAAAAAAAAAAAAAAAAAAA", headers={"Accept-Language": language})
        assert unknown.status_code == 404 and unknown.json() == {"error": "not-found"}


def test_a_refusal_with_values_is_translated_then_filled(api):
    created = api.post("/api/v2/pushes", json={"push": {"payload": "s3cret", "passphrase": "right one"}}).json()
    wrong = api.get(f"/api/v2/pushes/{created['url_token']}", params={"passphrase": "wrong"},
                    headers={"Accept-Language": "de"})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "Diese Passphrase ist falsch."
    assert wrong.json()["message"].startswith("Diese Passphrase ist nicht richtig. Noch 4 Versuche; danach pausieren "
                                              "Versuche aus deinem Netz für ")
    assert "Minuten" in wrong.json()["message"] and "{" not in wrong.json()["message"]


@pytest.mark.parametrize("header, first_words", [
    ("de;q=0.5, fr;q=0.9", "Saisissez"),  # the highest weight wins, not the first listed
    ("ar;q=0, de", "Gib das Geheimnis"),  # q=0: not wanted at all
    ("xx-YY, tlh", "Enter the secret"),  # no language this site speaks: the default, English
    ("*", "Enter the secret"),
])
def test_accept_language_weights_and_unknown_languages(api, header, first_words):
    answer = api.post("/api/v2/pushes", json=EMPTY, headers={"Accept-Language": header})
    assert answer.status_code == 422 and answer.json()["payload"][0].startswith(first_words)


def test_without_a_language_the_answers_are_the_english_ones_unchanged(api):
    plain = api.post("/api/v2/pushes", json=FIELDS_422)
    assert plain.json() == {
        "error": "Enter the secret to share. Views must be a whole number from 1 to 100.",
        "payload": ["Enter the secret to share."],
        "expire_after_views": ["Views must be a whole number from 1 to 100."],
    }
    assert api.post("/api/v2/pushes", json=FIELDS_422, headers={"Accept-Language": "en-GB"}).content == plain.content
    # A success asks nothing of the language: same shape whatever the header says.
    made = api.post("/api/v2/pushes", json={"push": {"payload": "x"}}, headers={"Accept-Language": "fr"})
    assert made.status_code == 201 and set(made.json()) == set(api.post("/api/v2/pushes", json={"push": {"payload": "x"}}).json())


def test_malformed_bodies_are_refused_in_the_callers_language_with_their_details(api):
    broken = b'{"push": {"payload": "x",'
    english = api.post("/api/v2/pushes", content=broken, headers={"Content-Type": "application/json"})
    french = api.post("/api/v2/pushes", content=broken, headers={"Content-Type": "application/json",
                                                                   "Accept-Language": "fr"})
    assert english.status_code == french.status_code == 400
    assert english.json()["error"].startswith("The request body is not valid JSON: Expecting")
    # The template is translated; the parser's own detail is kept as it is.
    assert french.json()["error"].startswith("Le corps de la requête n'est pas un JSON valide : Expecting")

    clash = api.post("/api/v2/pushes", content=b"push=y&push[payload]=x",
                     headers={"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "de"})
    assert clash.status_code == 400
    assert clash.json() == {"error": "Das Formularfeld 'push[payload]' steht im Konflikt mit einem anderen Feld."}

    rootless = api.post("/api/v2/pushes", json={"nothing": 1}, headers={"Accept-Language": "fr"})
    assert rootless.status_code == 400
    assert rootless.json() == {"error": "paramètre manquant, vide ou invalide : push",
                               "message": 'Envoyez par exemple push[payload]=... ou {"push": {"payload": "..."}}.'}
    assert api.post("/api/v2/pushes", json={"nothing": 1}).json() == {
        "error": "param is missing or the value is empty or invalid: push",
        "message": 'Send e.g. push[payload]=... or {"push": {"payload": "..."}}.'}


def test_field_type_refusals_name_the_field_in_each_language(api):
    sent = {"push": {"payload": "x", "colour": "red", "expire_after_views": "many"}}
    japanese = api.post("/api/v2/pushes", json=sent, headers={"Accept-Language": "ja"})
    assert japanese.status_code == 422
    assert japanese.json()["push.colour"] == ["不明なフィールドです。"]
    spanish = api.post("/api/v2/pushes", json={"push": {"payload": "x", "expire_after_views": "many"}},
                       headers={"Accept-Language": "es"})
    assert spanish.status_code == 422
    assert spanish.json()["expire_after_views"] == ["expire_after_views debe ser un número entero."]
    assert api.post("/api/v2/pushes", json={"push": {"payload": "x", "expire_after_views": "many"}}).json()[
        "expire_after_views"] == ["expire_after_views must be a whole number."]


def test_a_wrong_method_and_a_query_too_long_are_refused_in_the_callers_language(api):
    russian = api.put("/api/v2/pushes", headers={"Accept-Language": "ru"})
    english = api.put("/api/v2/pushes")
    assert russian.status_code == english.status_code == 405
    assert russian.headers["allow"] == english.headers["allow"]
    assert russian.json() == {"error": "Метод PUT здесь не разрешён."}
    assert english.json() == {"error": "Method PUT is not allowed here."}

    # FastAPI's own validation (a query parameter's limit): pydantic's words in English as
    # always, ours with the limit filled in elsewhere.
    long = "p" * 2000
    french = api.get("/api/v2/pushes/AAAAAAAAAAAAAAAAAAAAAA", params={"passphrase": long},
                     headers={"Accept-Language": "fr"})
    plain = api.get("/api/v2/pushes/AAAAAAAAAAAAAAAAAAAAAA", params={"passphrase": long})
    assert french.status_code == plain.status_code == 422
    limit = plain.json()["passphrase"][0].split("at most ")[1].split(" ")[0]
    assert plain.json()["passphrase"] == [f"String should have at most {limit} characters"]
    assert french.json()["passphrase"] == [f"Envoyez au plus {limit} caractères."]
    assert french.json()["error"] == f"passphrase: Envoyez au plus {limit} caractères."
    assert plain.json()["error"] == f"passphrase: String should have at most {limit} characters."


def test_spans_and_counts_are_worded_in_each_language_and_english_reads_as_before(api):
    too_long = {"push": {"payload": "x", "expire_after_minutes": 10 ** 7}}
    english = api.post("/api/v2/pushes", json=too_long).json()["expire_after_minutes"]
    french = api.post("/api/v2/pushes", json=too_long, headers={"Accept-Language": "fr"}).json()["expire_after_minutes"]
    german = api.post("/api/v2/pushes", json=too_long, headers={"Accept-Language": "de"}).json()["expire_after_minutes"]
    assert english == ["The lifetime must be from 5 minutes to 90 days."]
    assert french == ["La durée de vie doit être comprise entre 5 minutes et 90\u00a0jours."]
    assert german == ["Die Lebensdauer muss 5 Minuten bis 90 Tage betragen."]
    qr = {"push": {"payload": "q" * 1025, "kind": "qr"}}
    assert api.post("/api/v2/pushes", json=qr).json()["payload"] == [
        "QR code content is too long: at most 1,024 characters."]
    # 1 024 with the language's own group separator (a narrow no-break space in French).
    assert api.post("/api/v2/pushes", json=qr, headers={"Accept-Language": "fr"}).json()["payload"] == [
        "Le contenu du code QR est trop long : 1\u202f024 caractères au plus."]
