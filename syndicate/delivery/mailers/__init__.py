"""Mail providers behind one interface (``base.Mailer``); ``build_mailer`` picks one.

maildir (the embedded default) and smtp send the bytes ``messages`` built; the HTTP
APIs (mailgun, sendgrid, postmark) and Amazon SES take their batch shapes. Secrets
come from the environment variables the config names and are never logged.
"""

from __future__ import annotations

from syndicate.core.config import Settings, secret
from syndicate.delivery.mailers.base import Mailer, OutgoingMessage, SendResult

__all__ = ["Mailer", "OutgoingMessage", "SendResult", "build_mailer"]


def build_mailer(settings: Settings) -> Mailer:
    """The mailer ``[mail] provider`` names, configured and ready (connects lazily)."""
    mail = settings.mail
    provider = mail.provider
    if provider == "maildir":
        from syndicate.delivery.mailers.maildir import MaildirMailer

        return MaildirMailer(settings.resolve(mail.maildir))
    if provider == "smtp":
        from syndicate.delivery.mailers.smtp import SmtpMailer

        password = secret(mail.smtp.password_env, key="mail.smtp.password_env")
        return SmtpMailer(mail.smtp, password=password)
    if provider == "mailgun":
        from syndicate.delivery.mailers.mailgun import MailgunMailer

        assert mail.mailgun is not None  # checked by the config
        key = secret(mail.mailgun.api_key_env, key="mail.mailgun.api_key_env")
        return MailgunMailer(mail.mailgun, api_key=key or "", timeout=mail.mailgun.timeout)
    if provider == "sendgrid":
        from syndicate.delivery.mailers.sendgrid import SendgridMailer

        key = secret(mail.sendgrid.api_key_env, key="mail.sendgrid.api_key_env")
        return SendgridMailer(mail.sendgrid, api_key=key or "", timeout=mail.sendgrid.timeout)
    if provider == "postmark":
        from syndicate.delivery.mailers.postmark import PostmarkMailer

        token = secret(mail.postmark.server_token_env, key="mail.postmark.server_token_env")
        return PostmarkMailer(mail.postmark, token=token or "", timeout=mail.postmark.timeout)
    from syndicate.delivery.mailers.ses import SesMailer

    ses = mail.ses
    return SesMailer(
        ses,
        access_key=secret(ses.access_key_env, key="mail.ses.access_key_env"),
        secret_key=secret(ses.secret_key_env, key="mail.ses.secret_key_env"),
        timeout=ses.timeout,
    )
