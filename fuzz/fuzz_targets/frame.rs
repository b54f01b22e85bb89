//! The envelope frame every bus driver stores and sends: any bytes decode to an envelope or
//! an error, never a panic; what decodes encodes back to a frame that decodes the same.

use bytes::Bytes;
use harbor_distributed::frame;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(envelope) = frame::decode(Bytes::copy_from_slice(data)) else {
            return;
        };
        let encoded = frame::encode(&envelope);
        assert_eq!(encoded.len(), frame::encoded_len(&envelope));
        let again = frame::decode(encoded).expect("an encoded envelope decodes");
        assert_eq!(again, envelope);
    });
}
