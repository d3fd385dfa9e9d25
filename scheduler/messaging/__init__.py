"""Everything said to people, without sending it: iTIP invitations, iCalendar feeds, iMIP
mail from templates, texts in fi/sv/en, who receives what, and composing each message.
No network; templates are read from disk once."""
