"""The safety layer: a life-threatening situation gets 112 before anything else.

- `patterns`: does a message describe a danger to life, and which kind (pure, no Rasa).
- `guard`: the NLU step that has the last word: such a message gets the `emergency` intent.
- `policy`: the dialogue policy that answers it with the 112 answer before any rule or form.

The names every part shares are defined here, once. This module imports nothing, so that the
pure helpers and the channels can use the names without loading Rasa.
"""

EMERGENCY_INTENT = "emergency"
EMERGENCY_ACTION = "utter_emergency"
# the entity that picks the words of the 112 answer, and its values
DANGER_ENTITY = "danger"
SUICIDE = "suicide"
POISON = "poison"
GENERAL = "general"
DANGER_KINDS = (SUICIDE, POISON, GENERAL)
# who is in danger, for the words of the 112 answer: the writer, someone with them, someone
# far away (a farewell message from a friend who no longer answers)
DANGER_WHO_ENTITY = "danger_who"
SELF = "self"
PRESENT = "present"
FAR = "far"
DANGER_WHO = (SELF, PRESENT, FAR)
# a near-miss: danger words in a scope that is not a danger now (negation, past, animal...);
# the answer to the question gets the closing line IF_SERIOUS_ACTION
NEAR_MISS_ENTITY = "danger_scope"
IF_SERIOUS_ACTION = "utter_if_serious_112"
# the language of the message, when it can be told (bot/nlu/language.py)
LANGUAGE_ENTITY = "language"
