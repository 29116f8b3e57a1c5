from __future__ import annotations

import functools
import ipaddress
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware

from credo.core.context import (
    RequestInfo,
    reset_request_info,
    reset_request_memo,
    set_request_info,
    set_request_memo,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _parse_ip(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(ip: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the one function axes, the audit log and the rate limits use.

    Behind a reverse proxy every visitor arrives from the proxy's address, so the proxy header
    (``CREDO_TRUSTED_PROXY_HEADER``, e.g. X-Forwarded-For) is read — but only when the
    connection comes from one of ``CREDO_TRUSTED_PROXIES``; anyone else could send the header
    with an invented address. The header is read right to left, skipping our own proxies: the
    first untrusted hop is the address our outermost proxy saw; hops further left are whatever
    the client wrote and are ignored.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    header = settings.CREDO_TRUSTED_PROXY_HEADER
    proxies = tuple(settings.CREDO_TRUSTED_PROXIES)
    if remote is None or not header or not proxies:
        return remote
    networks = _networks(proxies)
    remote_ip = _parse_ip(remote)
    if remote_ip is None or not _is_trusted(remote_ip, networks):
        return remote
    meta_key = "HTTP_" + header.upper().replace("-", "_")
    hops = [h for h in request.META.get(meta_key, "").split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _parse_ip(hop)
        if ip is None:  # a malformed hop: our proxy did not write it, believe nothing further
            return remote
        if not _is_trusted(ip, networks):
            return str(ip)
    # every hop is one of our proxies (internal traffic): the leftmost is the origin
    first = _parse_ip(hops[0]) if hops else None
    return str(first) if first is not None else remote


class RequestContextMiddleware:
    """Makes the user, client IP and a request id available to services (for the audit log)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        user = getattr(request, "user", None)
        token = set_request_info(
            RequestInfo(
                user=user if user is not None and user.is_authenticated else None,
                ip=client_ip(request),
                request_id=request_id,
            )
        )
        memo_token = set_request_memo({})
        try:
            response = self.get_response(request)
        finally:
            reset_request_memo(memo_token)
            reset_request_info(token)
        response["X-Request-ID"] = request_id
        return response


class DefaultChineseLocaleMiddleware(LocaleMiddleware):
    """zh-Hans unless the user chose another language with the switch (language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; a lender's staff on an
    English-language browser still expect the Chinese UI until they switch.
    """

    def process_request(self, request: HttpRequest) -> None:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
