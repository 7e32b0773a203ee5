"""The accounts API's paths, named once for every test that calls them."""

from __future__ import annotations

REGISTER = "/api/v1/auth/register/"
VERIFY = "/api/v1/auth/verify/"
SIGN_IN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
CHANGE = "/api/v1/auth/password/change/"
RESET = "/api/v1/auth/password/reset/"
CONFIRM = "/api/v1/auth/password/reset/confirm/"
ME = "/api/v1/me/"
