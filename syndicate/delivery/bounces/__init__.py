"""Bounce and complaint reports that arrive as mail (DSN, ARF, provider NDRs).

``verp`` makes and reads the per-delivery envelope sender, ``parse`` turns a report
into findings, ``identify`` ties a finding to one of our delivery rows, ``events``
applies it (the same path provider webhooks use), ``ingest`` does one message end to
end, and ``mailbox`` polls a Maildir folder or an IMAP mailbox.
"""
