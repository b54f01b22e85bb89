//! The codec of the generated gRPC stubs: prost's, except that a message that does not
//! decode is `INVALID_ARGUMENT` with the A2A ErrorInfo (reason `INVALID_REQUEST`), as the
//! error table answers any other malformed request, instead of tonic's `INTERNAL`.
//!
//! gRPC's own status-code guide lists parse failures under `INTERNAL`; A2A maps a payload
//! that is not a valid request to `INVALID_ARGUMENT` on every binding, and the caller is the
//! one who can fix it, so the server says so.

use std::marker::PhantomData;

use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstDecoder};

use crate::{A2aError, ErrorKind, VersionErrorCode};

/// [`ProstCodec`] with decode failures as `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct A2aCodec<T, U> {
    inner: ProstCodec<T, U>,
}

impl<T, U> Default for A2aCodec<T, U> {
    fn default() -> Self {
        Self {
            inner: ProstCodec::default(),
        }
    }
}

impl<T, U> Codec for A2aCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = <ProstCodec<T, U> as Codec>::Encoder;
    type Decoder = A2aDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        self.inner.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        A2aDecoder {
            inner: ProstDecoder::new(BufferSettings::default()),
            _pd: PhantomData,
        }
    }
}

/// Decodes `U`, answering a malformed message with `INVALID_ARGUMENT`.
#[derive(Debug)]
pub struct A2aDecoder<U> {
    inner: ProstDecoder<U>,
    _pd: PhantomData<U>,
}

impl<U: Message + Default> Decoder for A2aDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.inner.decode(buf).map_err(|status| {
            let error = A2aError::new(
                ErrorKind::InvalidRequest,
                format!("the message does not decode: {}", status.message()),
            );
            let details = error.to_grpc_status_details(VersionErrorCode::Spec);
            Status::with_details(
                tonic::Code::InvalidArgument,
                error.message(),
                bytes::Bytes::from(details),
            )
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}
