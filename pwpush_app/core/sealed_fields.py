"""The names of a push's sealed fields: the associated data that binds each ciphertext to
its push and place (a ciphertext moved to another field or file fails to open)."""

PAYLOAD = "payload"
NOTE = "note"
LINK = "link"
# The address a verification code goes to (core/recipient_code.py).
VERIFY_EMAIL = "verify email"


def file_content_field(position: int) -> str:
    return f"file {position}"


def file_name_field(position: int) -> str:
    return f"file {position} name"
