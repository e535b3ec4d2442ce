//! The binary body of protocol 2 (`Content-Type: application/vnd.gridwork.frame`): the same
//! message as the JSON body, with its byte fields (Automerge changes and documents) carried
//! raw after the JSON instead of as base64 inside it.
//!
//! Base64 hides the bytes' structure from the compressor: a batch of records as base64 JSON
//! compresses to about 2.5 times the records' own compressed JSON, raw change bytes to about
//! 1.5 times. The JSON part keeps the usual rules (fields added, never renamed; unknown
//! fields ignored), so a frame grows the same way a JSON body does.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! "GWF1" | u32 header length | header: the message as JSON, every byte field ""
//!        | per byte field, in message order: u32 length | the bytes
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::wire::{Bytes, DocsResponse, PullResponse, PushRequest};

/// The media type of a frame body.
pub const FRAME_CONTENT_TYPE: &str = "application/vnd.gridwork.frame";

/// The first four bytes of a frame.
pub const FRAME_MAGIC: [u8; 4] = *b"GWF1";

/// Why a frame could not be read (never quoting its content).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    /// The body does not start with [`FRAME_MAGIC`].
    #[error("the body is not a gridwork frame")]
    NotAFrame,
    /// A length points past the end of the body.
    #[error("the frame is cut short")]
    Truncated,
    /// The JSON part does not parse as the message.
    #[error("the frame's JSON part is malformed (line {line}, column {column})")]
    Header {
        /// Line of the problem in the JSON part.
        line: usize,
        /// Column of the problem in the JSON part.
        column: usize,
    },
    /// The number of byte fields differs from the message's.
    #[error("the frame holds {found} byte fields, its message {expected}")]
    Count {
        /// Byte fields the JSON part has.
        expected: usize,
        /// Byte fields found after it.
        found: usize,
    },
}

/// A message whose byte fields travel raw in a frame.
pub trait Framed: Serialize + DeserializeOwned {
    /// The byte fields, in order, each left empty.
    fn take_bytes(&mut self) -> Vec<Vec<u8>>;
    /// How many byte fields the message has.
    fn count_bytes(&self) -> usize;
    /// Puts back the byte fields taken by [`Framed::take_bytes`] (exactly `count_bytes`).
    fn put_bytes(&mut self, bytes: Vec<Vec<u8>>);
}

fn take(b: &mut Bytes) -> Vec<u8> {
    std::mem::take(&mut b.0)
}

impl Framed for PushRequest {
    fn take_bytes(&mut self) -> Vec<Vec<u8>> {
        self.docs.iter_mut().map(|d| take(&mut d.changes)).collect()
    }
    fn count_bytes(&self) -> usize {
        self.docs.len()
    }
    fn put_bytes(&mut self, bytes: Vec<Vec<u8>>) {
        for (d, b) in self.docs.iter_mut().zip(bytes) {
            d.changes = Bytes(b);
        }
    }
}

impl Framed for PullResponse {
    fn take_bytes(&mut self) -> Vec<Vec<u8>> {
        self.items.iter_mut().map(|i| take(&mut i.data)).collect()
    }
    fn count_bytes(&self) -> usize {
        self.items.len()
    }
    fn put_bytes(&mut self, bytes: Vec<Vec<u8>>) {
        for (i, b) in self.items.iter_mut().zip(bytes) {
            i.data = Bytes(b);
        }
    }
}

impl Framed for DocsResponse {
    fn take_bytes(&mut self) -> Vec<Vec<u8>> {
        self.items.iter_mut().map(|i| take(&mut i.data)).collect()
    }
    fn count_bytes(&self) -> usize {
        self.items.len()
    }
    fn put_bytes(&mut self, bytes: Vec<Vec<u8>>) {
        for (i, b) in self.items.iter_mut().zip(bytes) {
            i.data = Bytes(b);
        }
    }
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    // Bodies are bounded far below 4 GiB by the server's limits.
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

/// Encodes a message as a frame.
pub fn encode<T: Framed>(mut message: T) -> Vec<u8> {
    let bytes = message.take_bytes();
    // Serializing plain structs of strings, numbers and empty byte fields cannot fail.
    let header = serde_json::to_vec(&message).unwrap_or_default();
    let total = 12 + header.len() + bytes.iter().map(|b| 4 + b.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&FRAME_MAGIC);
    put_len(&mut out, header.len());
    out.extend_from_slice(&header);
    for b in &bytes {
        put_len(&mut out, b.len());
        out.extend_from_slice(b);
    }
    out
}

/// Whether `body` starts like a frame.
pub fn is_frame(body: &[u8]) -> bool {
    body.starts_with(&FRAME_MAGIC)
}

/// Splits a frame into its JSON part and its byte fields, without parsing the JSON.
pub fn split(body: &[u8]) -> Result<(&[u8], Vec<Vec<u8>>), FrameError> {
    let rest = body
        .strip_prefix(&FRAME_MAGIC)
        .ok_or(FrameError::NotAFrame)?;
    let (header, mut rest) = take_field(rest)?;
    let mut bytes = Vec::new();
    while !rest.is_empty() {
        let (b, r) = take_field(rest)?;
        bytes.push(b.to_vec());
        rest = r;
    }
    Ok((header, bytes))
}

fn take_field(rest: &[u8]) -> Result<(&[u8], &[u8]), FrameError> {
    let (len, rest) = rest.split_first_chunk::<4>().ok_or(FrameError::Truncated)?;
    let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| FrameError::Truncated)?;
    if rest.len() < len {
        return Err(FrameError::Truncated);
    }
    Ok(rest.split_at(len))
}

/// Puts the byte fields of a split frame into its parsed JSON part.
pub fn join<T: Framed>(mut message: T, bytes: Vec<Vec<u8>>) -> Result<T, FrameError> {
    let expected = message.count_bytes();
    if bytes.len() != expected {
        return Err(FrameError::Count {
            expected,
            found: bytes.len(),
        });
    }
    message.put_bytes(bytes);
    Ok(message)
}

/// Decodes a frame.
pub fn decode<T: Framed>(body: &[u8]) -> Result<T, FrameError> {
    let (header, bytes) = split(body)?;
    let message: T = serde_json::from_slice(header).map_err(|e| FrameError::Header {
        line: e.line(),
        column: e.column(),
    })?;
    join(message, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{DocPush, PROTOCOL_VERSION, PullItem};

    #[test]
    fn push_and_pull_round_trip_with_raw_bytes() {
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            schema_version: 1,
            docs: vec![
                DocPush {
                    id: "a".into(),
                    kind: "case".into(),
                    changes: Bytes(vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]),
                },
                DocPush {
                    id: "b".into(),
                    kind: "patrol".into(),
                    changes: Bytes(vec![]),
                },
            ],
        };
        let f = encode(push.clone());
        assert!(is_frame(&f));
        // The bytes are raw, not base64.
        assert!(f.windows(7).any(|w| w == [0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]));
        assert_eq!(decode::<PushRequest>(&f).unwrap(), push);
        let pull = PullResponse {
            items: vec![PullItem {
                id: "a".into(),
                kind: "case".into(),
                data: Bytes(vec![9; 300]),
                snapshot: true,
                materialized: Some(crate::wire::Materialized {
                    changed_ms: 1_764_000_000_000,
                    conflicts: 1,
                    value: Some(
                        serde_json::value::RawValue::from_string(
                            r#"{"kind":"case","title":"漏水"}"#.into(),
                        )
                        .unwrap(),
                    ),
                    row: Some(crate::wire::StoreRow {
                        layout: 1,
                        summary: serde_json::value::RawValue::from_string(
                            r#"{"kind":"case","title":"漏水"}"#.into(),
                        )
                        .unwrap(),
                        facts: Some(crate::wire::StoreFacts {
                            day: "2026-12-04".into(),
                            until: "9999-12-31".into(),
                            data: serde_json::value::RawValue::from_string(r#"{"s":[]}"#.into())
                                .unwrap(),
                        }),
                        newest: None,
                    }),
                }),
            }],
            cursor: 7,
            more: false,
            snapshot: true,
            server_id: "s".into(),
        };
        assert_eq!(decode::<PullResponse>(&encode(pull.clone())).unwrap(), pull);
    }

    #[test]
    fn damaged_frames_are_refused() {
        let push = PushRequest {
            protocol: PROTOCOL_VERSION,
            schema_version: 1,
            docs: vec![DocPush {
                id: "a".into(),
                kind: "case".into(),
                changes: Bytes(vec![1, 2, 3]),
            }],
        };
        let f = encode(push);
        assert_eq!(
            decode::<PushRequest>(b"{\"protocol\":2}").unwrap_err(),
            FrameError::NotAFrame
        );
        assert_eq!(
            decode::<PushRequest>(&f[..f.len() - 1]).unwrap_err(),
            FrameError::Truncated
        );
        let mut extra = f.clone();
        extra.extend_from_slice(&[0, 0, 0, 0]);
        assert!(matches!(
            decode::<PushRequest>(&extra).unwrap_err(),
            FrameError::Count {
                expected: 1,
                found: 2
            }
        ));
        let mut bad = f;
        bad[9] = b'!';
        assert!(matches!(
            decode::<PushRequest>(&bad).unwrap_err(),
            FrameError::Header { .. }
        ));
    }
}
