"""E-mail notifications to citizens: German templates, an outbox in the views database and a
sender loop over SMTP. The consumer that fills the outbox is
``mailroom.consumers.notifications``."""
