"""The operator console's domain: operator accounts, their sessions, the audit log, and
the aggregate numbers the dashboard shows. The HTTP side lives in ``syndicate.web.admin``;
the ``syndicate operators`` commands in ``syndicate.cli.operators``.
"""
