"""The SMS channel (Twilio's messaging webhook).

- `input`: the Rasa input channel (`SmsInput`, signature check, conversation ids, digit replies)
  and its output channel;
- `twiml`: the replies as GSM-7 message bodies in TwiML (pure);
- `options`: the numbered options last offered to each conversation, kept in the database.
"""
