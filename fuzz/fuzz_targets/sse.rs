//! The client's SSE decoder: any bytes, cut into chunks where the input says. It must never
//! panic, never hold more than its cap, and never yield an event larger than the cap.

use harbor_client::sse::SseDecoder;

const CAP: usize = 256;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some((&cuts, bytes)) = data.split_first() else {
            return;
        };
        let step = usize::from(cuts % 16) + 1;
        let mut decoder = SseDecoder::new(CAP);
        for chunk in bytes.chunks(step) {
            let failed = decoder.push(chunk).is_err();
            assert!(
                decoder.buffered() <= CAP,
                "{} bytes buffered",
                decoder.buffered()
            );
            while let Some(event) = decoder.next_event() {
                assert!(
                    event.data.len() <= CAP,
                    "an event of {} bytes",
                    event.data.len()
                );
            }
            if failed {
                decoder.reset_connection();
            }
        }
    });
}
