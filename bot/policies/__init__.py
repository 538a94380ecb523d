"""Dialogue policies (Rasa graph components, see config.yml).

- `rules`: `BoundedRulePolicy`, Rasa's RulePolicy reading only as much of the conversation as
  its longest rule (same predictions, less work).
- `safety_first`: `SafetyFirstRulePolicy`, the safety layer's `EmergencyPolicy` and the rules
  in one graph node, combined by Rasa's own ensemble rules.
"""
