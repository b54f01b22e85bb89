//! A protocol error as a gRPC status: the code from the error table and a
//! `google.rpc.Status` with the A2A `ErrorInfo`, which tonic sends in
//! `grpc-status-details-bin`.

use harbor_a2a::{A2aError, VersionErrorCode};
use tonic::{Code, Status};

/// The status of `error`.
pub(crate) fn to_status(error: &A2aError, version_code: VersionErrorCode) -> Status {
    let code = Code::from_i32(error.grpc_code(version_code).code());
    let details = error.to_grpc_status_details(version_code);
    Status::with_details(code, error.message(), bytes::Bytes::from(details))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_carry_the_error_info() {
        let error = A2aError::task_not_found("t1");
        let status = to_status(&error, VersionErrorCode::Spec);
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "task t1 not found");
        let back =
            A2aError::from_grpc_status(status.code() as i32, status.message(), status.details());
        assert_eq!(back, Some(error));
    }
}
