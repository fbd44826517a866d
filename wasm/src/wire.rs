//! The wire of the fast path (`wasm/js/fast.js`): contexts in as bytes, answers out as integers.
//!
//! **In.** The JS glue copies only the context fields the flag reads
//! ([`edgeflag_evaluator::Reads`]) into a byte buffer in WASM memory, one `encodeInto` (or an
//! ASCII loop) per string, instead of `JSON.stringify` of the whole object:
//!
//! ```text
//! u32 count, then count × (u32 slot, u8 tag, payload)      little-endian, unaligned
//!   slot 0 = targetingKey, slot k = attribute id k-1
//!   tag 1 string  u32 byte length + ASCII     tag 2 integer  f64 (a JS safe integer)
//!   tag 3 true    tag 4 false                 tag 5 JSON     u32 byte length + JSON text,
//!                                                            non-ASCII escaped as \uXXXX
//! ```
//! ASCII only, so reading needs no UTF-8 validator in the module: a string with
//! other characters is sent as its JSON text, escaped.
//! Absent, `undefined` and `null` fields are not sent. Anything else the glue cannot write
//! exactly (a BigInt, a cycle, a lone surrogate, a huge string, a context that is not a plain
//! object) goes the old way, `JSON.stringify` and [`crate::input::context`], which also gives
//! the old errors.
//!
//! **Out.** An [`Answer`] packed into a `u32` ([`pack`]); the glue keeps the `EvaluationResult`
//! object it rendered for each (flag, environment, code) and hands it back, so no JSON is
//! written or parsed per call. The code carries every field of the answer, so
//! [`unpack`] + `FlagSet::evaluation` rebuild exactly the answer the engine gave.

use edgeflag_evaluator::{Answer, Arm, Context, ErrorCode, FlagSet, Reason};
use serde_json::Value;

/// The largest context either wire takes, in bytes; larger ones go the old way.
const MAX_WIRE_BYTES: u32 = 4 * 1024 * 1024;

/// `len` with this bit: a flag file's UTF-8 bytes for the layout scan and checksum
/// (`FlagSet.loadValidated`), up to `MAX_FILE_BYTES`, not a context.
pub const FILE_INPUT: u32 = 1 << 31;
/// A flag file of `input::MAX_FLAG_FILE_CHARS` characters, each up to 3 UTF-8 bytes.
const MAX_FILE_BYTES: u32 = 3 * crate::input::MAX_FLAG_FILE_CHARS;

/// Where the glue writes a context of `len` bytes (or a file's, with `FILE_INPUT`): `input`,
/// grown to fit, or 0 when `len` is over the limit (the glue then takes the old path). Both
/// wires (`FlagSet`, `UnleashSet`).
pub(crate) fn input_for(input: &mut Vec<u8>, len: u32) -> u32 {
    let file = len & FILE_INPUT != 0;
    let (len, max) = if file { (len & !FILE_INPUT, MAX_FILE_BYTES) } else { (len, MAX_WIRE_BYTES) };
    if len > max {
        return 0;
    }
    if input.len() < len as usize {
        // A context buffer is reused call after call: rounded up, it grows rarely. A file's is
        // used once (WASM memory never shrinks): exactly its size.
        input.resize(if file { len as usize } else { (len as usize).next_power_of_two() }, 0);
    }
    input.as_mut_ptr() as u32
}

/// Not a code: the answer does not fit (a variation past 4094, a rule past 2046) or the input
/// could not be read. The glue then takes the old path for that call.
pub const NO_CODE: u32 = u32::MAX;

const TAG_STRING: u8 = 1;
const TAG_INTEGER: u8 = 2;
const TAG_TRUE: u8 = 3;
const TAG_FALSE: u8 = 4;
const TAG_JSON: u8 = 5;

const REASONS: [Reason; 7] = [
    Reason::Static,
    Reason::TargetingMatch,
    Reason::Split,
    Reason::Disabled,
    Reason::Default,
    Reason::PrerequisiteFailed,
    Reason::Error,
];
const ERROR_CODES: [ErrorCode; 6] = [
    ErrorCode::FlagNotFound,
    ErrorCode::TypeMismatch,
    ErrorCode::ParseError,
    ErrorCode::TargetingKeyMissing,
    ErrorCode::InvalidContext,
    ErrorCode::General,
];

/// `reason | error << 3 | arm << 6 | experiment << 8 | (rule + 1) << 9 | (variation + 1) << 20`.
pub fn pack(answer: &Answer) -> u32 {
    let reason = REASONS.iter().position(|r| *r == answer.reason).unwrap_or(0) as u32;
    let error = answer
        .error_code
        .map_or(0, |c| ERROR_CODES.iter().position(|e| *e == c).map_or(0, |i| i + 1)) as u32;
    let arm = match answer.arm {
        None => 0,
        Some(Arm::Baseline) => 1,
        Some(Arm::Canary) => 2,
    };
    let rule = answer.rule_index.map_or(0, |r| r + 1);
    let variation = answer.variation.map_or(0, |v| v + 1);
    if rule >= 1 << 11 || variation >= (1 << 12) - 1 {
        return NO_CODE;
    }
    reason | error << 3 | arm << 6 | (answer.experiment as u32) << 8 | (rule as u32) << 9 | (variation as u32) << 20
}

/// The answer a code was packed from (`None` for [`NO_CODE`] or a code no answer packs to).
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn unpack(code: u32) -> Option<Answer> {
    if code == NO_CODE {
        return None;
    }
    let reason = *REASONS.get((code & 7) as usize)?;
    let error_code = match (code >> 3) & 7 {
        0 => None,
        e => Some(*ERROR_CODES.get(e as usize - 1)?),
    };
    let arm = match (code >> 6) & 3 {
        0 => None,
        1 => Some(Arm::Baseline),
        2 => Some(Arm::Canary),
        _ => return None,
    };
    let rule = (code >> 9) & 0x7ff;
    let variation = code >> 20;
    Some(Answer {
        variation: (variation > 0).then(|| variation as usize - 1),
        reason,
        rule_index: (rule > 0).then(|| rule as usize - 1),
        arm,
        experiment: (code >> 8) & 1 == 1,
        error_code,
    })
}

/// Reads a context written by the glue (see the module docs); `None` if the bytes are not
/// that (the glue then takes the old path, which reports any error).
pub fn context(set: &FlagSet, bytes: &[u8]) -> Option<Context> {
    let mut reader = Reader { bytes, at: 0 };
    let count = reader.u32()?;
    let mut targeting_key = None;
    let mut attributes = Vec::with_capacity(count.min(64) as usize);
    for _ in 0..count {
        let slot = reader.u32()?;
        let value = match reader.u8()? {
            TAG_STRING => Value::String(ascii(reader.bytes()?)?),
            TAG_INTEGER => {
                let n = f64::from_le_bytes(reader.array()?);
                // A JS safe integer: exact as i64, and the number JSON text would have given.
                if !(n.is_finite() && n.trunc() == n && n.abs() <= 9_007_199_254_740_991.0) {
                    return None;
                }
                Value::from(n as i64)
            }
            TAG_TRUE => Value::Bool(true),
            TAG_FALSE => Value::Bool(false),
            TAG_JSON => edgeflag_readers::json_reader::parse_value(&ascii(reader.bytes()?)?).ok()?,
            _ => return None,
        };
        match slot {
            0 => targeting_key = Some(value),
            id => attributes.push((set.attribute_name(id - 1)?.to_owned(), value)),
        }
    }
    Context::from_parts(targeting_key, attributes).ok()
}

/// ASCII bytes as a string (`None` for any other byte).
fn ascii(bytes: &[u8]) -> Option<String> {
    ascii_owned(bytes.to_vec())
}

/// ASCII bytes as a string (`None` for any other byte).
pub(crate) fn ascii_owned(bytes: Vec<u8>) -> Option<String> {
    if !bytes.is_ascii() {
        return None;
    }
    // SAFETY: ASCII is valid UTF-8, checked just above. (`String::from_utf8` would link
    // the general UTF-8 validator into the module, to check it again.)
    Some(unsafe { String::from_utf8_unchecked(bytes) })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

/// 1 when the file declares its environments (else 0), then per flag, in file order:
/// `k, n, n attribute ids`, where `k` is 1 when the flag reads the targeting key, +2 when it
/// may read every attribute, + 4 × its kind (boolean, string, number, json).
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn reads(set: &FlagSet) -> Vec<u32> {
    let mut out = vec![set.environment_names().next().is_some() as u32];
    for index in 0..set.len() {
        let Some(reads) = set.reads(index) else { break };
        // The kind's position in `FlagKind::ALL` (fast.js's `KINDS`).
        let kind = set.flag_kind(index).map_or(3, |k| k as u32);
        out.push(reads.targeting_key as u32 | (reads.all_attributes as u32) << 1 | kind << 2);
        out.push(reads.attributes.len() as u32);
        out.extend_from_slice(&reads.attributes);
    }
    out
}

/// The environments the glue passes by id (id = position + 1; 0 is none): the declared ones,
/// or when the file declares none, those some flag overrides (any other name then answers
/// as the base flag, id 0).
#[cfg_attr(edgeflag_size, optimize(size))]
pub fn environments(set: &FlagSet) -> Vec<&str> {
    let declared: Vec<&str> = set.environment_names().collect();
    if declared.is_empty() {
        set.override_names()
    } else {
        declared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_shape_round_trips_through_a_code() {
        for reason in REASONS {
            for error_code in std::iter::once(None).chain(ERROR_CODES.map(Some)) {
                for arm in [None, Some(Arm::Baseline), Some(Arm::Canary)] {
                    for (variation, rule_index) in [(None, None), (Some(0), Some(0)), (Some(4093), Some(2046)), (Some(7), None)] {
                        for experiment in [false, true] {
                            let answer = Answer { variation, reason, rule_index, arm, experiment, error_code };
                            let code = pack(&answer);
                            assert_ne!(code, NO_CODE);
                            assert_eq!(unpack(code), Some(answer));
                        }
                    }
                }
            }
        }
        let too_big = Answer { variation: Some(4094), reason: Reason::Split, rule_index: None, arm: None, experiment: false, error_code: None };
        assert_eq!(pack(&too_big), NO_CODE);
        assert_eq!(unpack(NO_CODE), None);
    }

    #[test]
    fn reads_what_the_glue_writes_and_refuses_the_rest() {
        let set = FlagSet::from_json(
            r#"{"schema_version":1,"flags":[{"key":"f","kind":"boolean","enabled":true,
            "variations":[{"name":"on","value":true},{"name":"off","value":false}],
            "off_variation":"off","default_variation":"off",
            "rules":[{"clauses":[{"attribute":"country","operator":"in","values":["FR"]}],"variation":"on"}]}]}"#,
        )
        .unwrap();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&2u32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.push(TAG_INTEGER);
        bytes.extend_from_slice(&42f64.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.push(TAG_STRING);
        bytes.extend_from_slice(&2u32.to_le_bytes());
        bytes.extend_from_slice(b"FR");
        let ctx = context(&set, &bytes).unwrap();
        assert_eq!(ctx, Context::from_json(r#"{"targetingKey":42,"country":"FR"}"#).unwrap());
        assert!(context(&set, &bytes[..bytes.len() - 1]).is_none(), "truncated");
        let mut unknown = bytes.clone();
        unknown[17..21].copy_from_slice(&9u32.to_le_bytes());
        assert!(context(&set, &unknown).is_none(), "no attribute 8");
        let mut fraction = bytes.clone();
        fraction[9..17].copy_from_slice(&0.5f64.to_le_bytes());
        assert!(context(&set, &fraction).is_none(), "not an integer");
    }
}
