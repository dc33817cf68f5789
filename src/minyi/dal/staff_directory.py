"""Staff accounts in the Cognito user pool: the centre creates them (there is no
self sign-up), puts each in one group and, for departments, sets the department the
account acts for; staff sign in for an ID token that the API's authorizer accepts."""

from __future__ import annotations

from typing import Any

import boto3

from minyi.core import settings
from minyi.core.errors import Unauthorized, ValidationFailed
from minyi.models.identity import DEPARTMENT_CLAIM, Role


def _cognito() -> Any:
    return boto3.client("cognito-idp")


def add_user(username: str, role: Role, password: str, department: str | None = None) -> None:
    if role is Role.DEPARTMENT and not department:
        raise ValidationFailed("a department account names its department",
                               [{"field": "department", "problem": "required for the department group"}])
    pool = settings.require("staff_user_pool_id")
    attributes = [{"Name": DEPARTMENT_CLAIM, "Value": department}] if department else []
    cognito = _cognito()
    cognito.admin_create_user(UserPoolId=pool, Username=username, UserAttributes=attributes,
                              MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=role.value)


def id_token(username: str, password: str) -> str:
    """Sign in with username and password (USER_PASSWORD_AUTH) for an ID token."""
    cognito = _cognito()
    try:
        answer = cognito.initiate_auth(ClientId=settings.require("staff_user_pool_client_id"),
                                       AuthFlow="USER_PASSWORD_AUTH",
                                       AuthParameters={"USERNAME": username, "PASSWORD": password})
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException):
        raise Unauthorized("wrong username or password") from None
    if "AuthenticationResult" not in answer:
        raise Unauthorized(f"sign-in needs another step first: {answer.get('ChallengeName')}")
    return answer["AuthenticationResult"]["IdToken"]
