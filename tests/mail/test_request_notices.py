"""A request answered (core/requests.py): the requester hears of it by mail, through a real
SMTP server, and through their webhooks; neither carries the answer, the message or a link."""

from __future__ import annotations

from pwpush_app.core import webhooks
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.audit import Client
from pwpush_app.core.outbox import send_due_mails
from pwpush_app.core.request_files import FileAnswerDraft
from pwpush_app.core.requests import NewRequest, answer_request, create_request, requests_of

ANSWERER = Client(ip="203.0.113.42", user_agent="Answerer/1.0")


def test_the_requester_is_mailed_and_called_without_the_answer(mail_runtime, smtp, receiver):
    user, _token = issue_api_token(mail_runtime, "asker@example.com")
    requester = Client(ip="192.0.2.3", user_id=user.id)
    _endpoint, receiver.secret = webhooks.add_webhook(mail_runtime, user.id, receiver.url)
    made = create_request(mail_runtime, NewRequest(message="Message-canary-77ab"), requester)
    answer_request(mail_runtime, made.token, "Answer-canary-1c2d", ANSWERER)

    assert send_due_mails(mail_runtime, "w").sent == 1
    [mail] = smtp.received
    assert mail.rcpt_tos == ["asker@example.com"]
    assert mail.message["Subject"] == "Your request for a secret was answered"
    assert "/dashboard" in mail.text
    assert webhooks.deliver_due(mail_runtime, "w") == 1
    [call] = receiver.wait_for(1)
    assert call.signature_ok and call.json["event"] == "request.answered"
    [listed] = requests_of(mail_runtime, user.id)
    assert call.json["request"]["id"] == made.request.id and call.json["push"]["id"] == listed.answer_push_id
    assert call.json["actor"] == {"ip": "203.0.113.42", "user_agent": "Answerer/1.0", "is_owner": False}
    for raw in (mail.data.decode(), call.body.decode()):
        for secret in ("Message-canary-77ab", "Answer-canary-1c2d", made.token):
            assert secret not in raw


def test_a_request_with_the_mail_turned_off_is_told_by_webhook_only(mail_runtime, smtp, receiver):
    user, _token = issue_api_token(mail_runtime, "quiet-asker@example.com")
    requester = Client(ip="192.0.2.3", user_id=user.id)
    _endpoint, receiver.secret = webhooks.add_webhook(mail_runtime, user.id, receiver.url)
    quiet = create_request(mail_runtime, NewRequest(message="no mail, please", notify_by_email=False), requester)
    assert quiet.request.notify_by_email is False
    with FileAnswerDraft(mail_runtime, quiet.token, ANSWERER) as draft:
        draft.start_file("key.pem", "application/x-pem-file")
        draft.write(b"File-canary-5e6f")
        draft.end_file()
        draft.commit_answer()

    assert send_due_mails(mail_runtime, "w").sent == 0 and smtp.received == []
    assert webhooks.deliver_due(mail_runtime, "w") == 1
    [call] = receiver.wait_for(1)
    assert call.json["event"] == "request.answered" and call.json["request"]["id"] == quiet.request.id
    assert (call.json["push"]["kind"], call.json["push"]["files"]) == ("file", 1)
    assert "File-canary-5e6f" not in call.body.decode() and "key.pem" not in call.body.decode()

    # The next request, left as it comes (mail on), is mailed again.
    loud = create_request(mail_runtime, NewRequest(message="mail me"), requester)
    assert loud.request.notify_by_email is True
    answer_request(mail_runtime, loud.token, "answer", ANSWERER)
    assert send_due_mails(mail_runtime, "w").sent == 1 and len(smtp.received) == 1
