"""AWS errors as drillbook errors: the AWS error code is kept (``code``), the class says
what kind of problem it is, and the message says what to check."""

from __future__ import annotations

from drillbook.harness.errors import DrillbookError


class AwsError(DrillbookError):
    """An AWS call failed; ``code`` is AWS's error code (``DBInstanceNotFound``)."""

    def __init__(self, message: str, *, code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation


class AwsNotFound(AwsError):
    """The named resource does not exist (in that region, for that account)."""


class AwsWrongState(AwsError):
    """The resource is not in a state that allows the operation (stopping a stopped instance)."""


class AwsAlreadyExists(AwsError):
    """A resource with that identifier already exists."""


class AwsAccessDenied(AwsError):
    """The credentials in use may not make this call."""


class AwsUnreachable(AwsError):
    """The AWS endpoint did not answer within its timeout, or there are no credentials."""


class AwsInvalidRequest(AwsError):
    """AWS rejected a parameter."""


_BY_CODE: dict[str, type[AwsError]] = {}
for _cls, _codes in (
    (
        AwsNotFound,
        (
            "DBInstanceNotFound",
            "DBInstanceNotFoundFault",
            "DBSnapshotNotFound",
            "DBSnapshotNotFoundFault",
            "NoSuchHostedZone",
            "NoSuchChange",
            "ResourceNotFoundException",
            "NoSuchBucket",
            "NoSuchKey",
            "NotFound",
            "404",
            "DBClusterNotFoundFault",
            "ObjectLockConfigurationNotFoundError",
            "ServerSideEncryptionConfigurationNotFoundError",
        ),
    ),
    (
        AwsWrongState,
        (
            "InvalidDBInstanceState",
            "InvalidDBInstanceStateFault",
            "InvalidDBSnapshotState",
            "InvalidDBSnapshotStateFault",
            "InvalidDBClusterStateFault",
            "InvalidRequestException",
            "PriorRequestNotComplete",
            "InvalidBucketState",
        ),
    ),
    (
        AwsAlreadyExists,
        (
            "DBInstanceAlreadyExists",
            "DBInstanceAlreadyExistsFault",
            "DBSnapshotAlreadyExists",
            "DBSnapshotAlreadyExistsFault",
            "ResourceExistsException",
            "BucketAlreadyOwnedByYou",
        ),
    ),
    (
        AwsAccessDenied,
        (
            "AccessDenied",
            "AccessDeniedException",
            "UnauthorizedOperation",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "ExpiredToken",
            "SignatureDoesNotMatch",
            "AuthFailure",
            "403",
        ),
    ),
    (
        AwsInvalidRequest,
        (
            "InvalidParameterValue",
            "InvalidParameterCombination",
            "InvalidParameterException",
            "InvalidInput",
            "InvalidChangeBatch",
            "ValidationError",
            "ValidationException",
            "InvalidRequest",
            "InvalidArgument",
            "MalformedXML",
        ),
    ),
):
    for _code in _codes:
        _BY_CODE[_code] = _cls


def class_for(code: str) -> type[AwsError]:
    return _BY_CODE.get(code, AwsError)
