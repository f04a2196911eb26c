"""E-mail address (RFC 5322 ``addr-spec``, the dot-atom subset seen in practice).

Validation requires a registrable domain: the domain must end in an ICANN suffix of the Public
Suffix List with a label before it. The list is ``publicsuffixlist``'s bundled copy: it never
fetches anything (Presidio's own e-mail recognizer uses tldextract, which downloads the list on
first use) and loads in ~35 ms without importing an HTTP client, which start-up of every scan
worker would pay. Unknown suffixes are rejected, so file names such as ``logo@2x.png`` and internal
names such as ``ops@build.internal`` fail that check. Internationalised domains are matched in their
ASCII (IDNA, RFC 5890) form, ``xn--`` labels including the top-level one (``li@xn--55qx5d.xn--fiqs8s``).

Role mailboxes are not a person's: the RFC 2142 names (``postmaster@``, ``abuse@``, ``support@`` …), senders
of automated mail (``noreply@``, ``no-reply@``, ``alerts@``, ``notifications@``, ``mailer-daemon@``) and
service accounts (``git@github.com``) are rejected, with or without a ``+tag``.

Fictitious test values: ``zhang.san@example.com``, ``li_si+bank@example.cn``.
"""

from __future__ import annotations

from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from scanner.detection.recognizer import Candidate, Recognizer
from scanner.registry import RECOGNIZERS


@lru_cache(maxsize=1)
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False, only_icann=True)


#: local parts of role and automated mailboxes (RFC 2142 §3-5, and what services send from), separators removed
ROLE_MAILBOXES = frozenset((
    "info", "marketing", "sales", "support", "abuse", "noc", "security", "postmaster", "hostmaster", "usenet", "news",
    "webmaster", "www", "uucp", "ftp", "noreply", "donotreply", "noreplies", "mailerdaemon", "mailer", "daemon",
    "alerts", "alert", "alerting", "notifications", "notification", "notify", "notifier", "git", "admin",
    "administrator", "root", "nobody", "bounce", "bounces", "newsletter", "newsletters", "billing", "help",
    "helpdesk", "contact", "hello", "team", "jobs", "careers", "privacy", "legal", "compliance", "press", "office",
    "service", "services", "customerservice", "feedback", "system", "devops", "ops", "hr", "accounts", "payments",
    "invoices", "invoice", "orders", "reply", "listserv", "majordomo", "monitoring", "cron", "jenkins", "ci",
    "github", "gitlab", "bot", "robot", "dmarc", "unsubscribe",
))


def is_role_mailbox(local: str) -> bool:
    """``noreply``, ``no-reply+abc``, ``Mailer-Daemon``, ``bounces+123`` … (lower case expected)."""
    name = local.partition("+")[0].replace("-", "").replace("_", "").replace(".", "")
    return name in ROLE_MAILBOXES or name.startswith(("noreply", "donotreply", "bounce"))


@lru_cache(maxsize=4096)
def _has_public_suffix(domain: str) -> bool:
    return _suffix_list().privatesuffix(domain) is not None


_DOMAIN = r"[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.(?:[A-Za-z]{2,24}|[Xx][Nn]--[A-Za-z0-9-]{1,59})"


@RECOGNIZERS.register
class EmailAddressRecognizer(Recognizer):
    id = "email_address"
    entity_type = "EMAIL_ADDRESS"
    kind = "contact"
    description = "E-mail address"
    candidates = (
        Candidate("email", rf"[A-Za-z0-9][A-Za-z0-9._%+-]*@{_DOMAIN}", 0.6),
    )
    # a hidden run of the local part, up to three characters kept before it and any after it:
    # ``z***@example.com``,
    # ``s****n@outlook.com``, ``zh***an.li@example.cn``, ``***@example.com``
    masked = (rf"[A-Za-z0-9._%+-]{{0,3}}[*]{{2,}}[A-Za-z0-9._%+-]{{0,64}}@{_DOMAIN}",)
    context_words = ("email", "e-mail", "mail", "邮箱", "电子邮件", "youxiang")
    boundary = "0-9A-Za-z._%+@-"
    priority = 10
    examples = ("zhang.san@example.com", "li_si+bank@example.cn")

    def normalize(self, text: str) -> str:
        return text.lower()

    def validate(self, value: str) -> bool:
        local, _, domain = value.rpartition("@")
        if not local or len(local) > 64 or len(domain) > 253 or ".." in value or local.endswith("."):
            return False
        if is_role_mailbox(local):
            return False
        return _has_public_suffix(domain)

    def mask(self, text: str) -> str:
        local, _, domain = self.normalize(text).rpartition("@")
        return f"{local[0]}***@{domain}"
