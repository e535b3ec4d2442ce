//! A record as an Automerge document, sans IO: bytes and values in, bytes and values out.
//!
//! Every write is a *difference* between the record as this app version read it (`old`) and
//! as the user left it (`new`), applied to the document. Keys this version does not know are
//! in neither value, so they are never touched: a newer app's fields survive a round trip.
//! Lists of objects that carry an `"id"` (events, findings, visits, sessions…) are matched by
//! id, so concurrent appends and edits of different elements all survive; narrative strings
//! (the record kind's text keys) are Automerge text, so concurrent edits of different
//! sentences both survive.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use automerge::hydrate;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, AutoCommit, AutomergeError, ChangeHash, ObjId, ObjType, Prop, ReadDoc, ScalarValue,
    ScalarValueRef, Value as AmValue, ValueRef,
};
use gridwork_schema::wire::Materialized;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use thiserror::Error;

/// What went wrong with a document.
#[derive(Debug, Error)]
pub enum DocError {
    /// The bytes are not an Automerge document or change set.
    #[error("not valid Automerge data: {0}")]
    Corrupt(String),
    /// An Automerge operation failed.
    #[error("document operation failed: {0}")]
    Automerge(#[from] AutomergeError),
    /// A record value was not a JSON object at its root.
    #[error("a record must be a JSON object")]
    NotAnObject,
    /// A conflict path names nothing in the document.
    #[error("no field at {0}")]
    NoSuchField(String),
    /// A change hash could not be parsed.
    #[error("invalid change hash {0:?}")]
    BadHash(String),
    /// Changes build on changes that were not given.
    #[error("changes build on changes that are missing")]
    MissingDeps,
}

/// Who made an edit: recorded in each change so that history and conflicts can say who.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Author {
    /// The staff member's user id.
    pub user: String,
    /// The staff member's display name (staff, never a resident).
    #[serde(default)]
    pub name: String,
    /// The device the edit was made on.
    #[serde(default)]
    pub device: String,
}

/// The metadata stored as each change's message.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct ChangeNote {
    by: Author,
    #[serde(default)]
    what: Vec<String>,
}

/// One step in a field's path, e.g. `parties[0].phone` is `[Key(parties), Index(0), Key(phone)]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathSeg {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A field's path in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FieldPath(pub Vec<PathSeg>);

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Key(k) if i == 0 => write!(f, "{k}")?,
                PathSeg::Key(k) => write!(f, ".{k}")?,
                PathSeg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for FieldPath {
    type Err = DocError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DocError::NoSuchField(s.to_owned());
        let mut segs = Vec::new();
        for part in s.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() && segs.is_empty() {
                return Err(bad());
            }
            if !key.is_empty() {
                segs.push(PathSeg::Key(key.to_owned()));
            }
            while let Some(stripped) = rest.strip_prefix('[') {
                let end = stripped.find(']').ok_or_else(bad)?;
                let n = stripped[..end].parse().map_err(|_| bad())?;
                segs.push(PathSeg::Index(n));
                rest = &stripped[end + 1..];
            }
            if !rest.is_empty() {
                return Err(bad());
            }
        }
        Ok(FieldPath(segs))
    }
}

/// One of the values that concurrent edits put in the same field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictValue {
    /// The value this edit put there.
    pub value: Value,
    /// Who put it.
    pub by: Author,
    /// When (milliseconds since the Unix epoch, as the editing device's clock said).
    pub at_ms: i64,
    /// The change that put it (hex).
    pub change: String,
}

/// A field that concurrent offline edits set to different values.
///
/// Automerge keeps a deterministic winner (`values[0]`), but the others are not lost: they are
/// listed here until a person settles the field, which is an ordinary edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// The field.
    pub path: FieldPath,
    /// The competing values, the current winner first.
    pub values: Vec<ConflictValue>,
}

/// One change in a record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The change hash (hex).
    pub change: String,
    /// Who made it.
    pub by: Author,
    /// When (milliseconds since the Unix epoch, as the editing device's clock said).
    pub at_ms: i64,
    /// The top-level fields it touched.
    pub what: Vec<String>,
    /// The Automerge actor (hex) that made it.
    pub actor: String,
}

/// A record held as an Automerge document.
#[derive(Debug)]
pub struct RecordDoc {
    doc: AutoCommit,
}

/// Key names whose string values are narrative text, merged sentence by sentence.
pub type TextKeys<'a> = &'a [&'a str];

impl RecordDoc {
    /// Makes a new document holding `value` (a JSON object), as one change by `author`.
    pub fn create(
        actor: &[u8],
        value: &Value,
        text_keys: TextKeys<'_>,
        author: &Author,
        at_ms: i64,
    ) -> Result<Self, DocError> {
        let map = value.as_object().ok_or(DocError::NotAnObject)?;
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        let encoding = doc.text_encoding();
        // One batch insert of the whole tree is much cheaper than an operation per field.
        let root: HashMap<String, hydrate::Value> = map
            .iter()
            .map(|(k, v)| (k.clone(), to_hydrate(Some(k), v, text_keys, encoding)))
            .collect();
        doc.init_root_from_hydrate(&hydrate::Map::from(root))?;
        let what = map.keys().cloned().collect();
        commit(&mut doc, author, what, at_ms);
        Ok(RecordDoc { doc })
    }

    /// Loads a document from its saved bytes, to be edited as `actor`.
    pub fn load(bytes: &[u8], actor: &[u8]) -> Result<Self, DocError> {
        let doc = AutoCommit::load(bytes)
            .map_err(|e| DocError::Corrupt(e.to_string()))?
            .with_actor(ActorId::from(actor));
        Ok(RecordDoc { doc })
    }

    /// Loads a document from bytes received from elsewhere (a saved document and/or change
    /// chunks), strictly: damaged data anywhere is [`DocError::Corrupt`], and change chunks
    /// that build on changes not given are [`DocError::MissingDeps`]. One pass of parsing
    /// and applying: the same verdict as [`check_bytes`] followed by a merge into an empty
    /// document, for about half the work.
    pub fn load_strict(bytes: &[u8], actor: &[u8]) -> Result<Self, DocError> {
        let opts = automerge::LoadOptions::new()
            .on_partial_load(automerge::OnPartialLoad::Error)
            .verification_mode(automerge::VerificationMode::Check);
        let doc = match AutoCommit::load_with_options(bytes, opts) {
            Ok(d) => d,
            Err(AutomergeError::MissingDeps) => return Err(DocError::MissingDeps),
            Err(e) => return Err(DocError::Corrupt(e.to_string())),
        };
        Ok(RecordDoc {
            doc: doc.with_actor(ActorId::from(actor)),
        })
    }

    /// Merges changes (a saved document, or incremental change bytes) from elsewhere.
    ///
    /// Applying the same bytes twice is harmless. Returns how many operations were new.
    pub fn merge_bytes(&mut self, bytes: &[u8]) -> Result<usize, DocError> {
        check_bytes(bytes)?;
        self.doc
            .load_incremental(bytes)
            .map_err(|e| DocError::Corrupt(e.to_string()))
    }

    /// Applies the difference between `old` and `new` as one change. Returns its hash, or
    /// `None` when nothing differed.
    pub fn update(
        &mut self,
        old: &Value,
        new: &Value,
        text_keys: TextKeys<'_>,
        author: &Author,
        at_ms: i64,
    ) -> Result<Option<ChangeHash>, DocError> {
        let (Some(old_map), Some(new_map)) = (old.as_object(), new.as_object()) else {
            return Err(DocError::NotAnObject);
        };
        let mut what = Vec::new();
        for (k, nv) in new_map {
            if old_map.get(k) != Some(nv) {
                what.push(k.clone());
            }
        }
        for k in old_map.keys() {
            if !new_map.contains_key(k) {
                what.push(k.clone());
            }
        }
        if what.is_empty() {
            return Ok(None);
        }
        diff_map(&mut self.doc, &ObjId::Root, old_map, new_map, text_keys)?;
        Ok(commit(&mut self.doc, author, what, at_ms))
    }

    /// Sets one field to `value`, superseding every concurrent value it had: how a person
    /// settles a conflict.
    pub fn set_field(
        &mut self,
        path: &FieldPath,
        value: &Value,
        text_keys: TextKeys<'_>,
        author: &Author,
        at_ms: i64,
    ) -> Result<ChangeHash, DocError> {
        let (parent, last) = self.resolve_parent(path)?;
        put_new(&mut self.doc, &parent, last, value, text_keys, false)?;
        let top = match path.0.first() {
            Some(PathSeg::Key(k)) => k.clone(),
            _ => String::new(),
        };
        commit(&mut self.doc, author, vec![top], at_ms)
            .ok_or_else(|| DocError::NoSuchField(path.to_string()))
    }

    /// The record as a JSON value (text as strings; for a conflicted field, the winner).
    pub fn to_value(&self) -> Value {
        value_of(&self.doc, &ObjId::Root, ObjType::Map, None)
    }

    /// How many operations the document holds.
    pub fn op_count(&self) -> usize {
        usize::try_from(self.doc.stats().num_ops).unwrap_or(usize::MAX)
    }

    /// The current heads of the document.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The whole document, compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The whole document, not compressed: for a young document, much cheaper to make than
    /// its changes (which Automerge rebuilds from the operations) and quicker to load.
    pub fn save_uncompressed(&mut self) -> Vec<u8> {
        self.doc.save_nocompress()
    }

    /// The changes made or merged since the last `save`/`save_incremental`.
    pub fn save_incremental(&mut self) -> Vec<u8> {
        self.doc.save_incremental()
    }

    /// The changes that someone who has `heads` lacks (empty when they lack nothing).
    pub fn changes_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Whether the document contains every change named in `heads`.
    pub fn has_all(&mut self, heads: &[ChangeHash]) -> bool {
        heads
            .iter()
            .all(|h| self.doc.get_change_meta_by_hash(h).is_some())
    }

    /// Every field whose concurrent values have not been settled.
    pub fn conflicts(&mut self) -> Vec<Conflict> {
        let mut found = Vec::new();
        let mut path = Vec::new();
        collect_conflicts(&self.doc, &ObjId::Root, ObjType::Map, &mut path, &mut found);
        found
            .into_iter()
            .map(|(path, entries)| Conflict {
                path: FieldPath(path),
                values: entries
                    .into_iter()
                    .map(|(value, opid)| {
                        let (by, at_ms, change) = self.op_origin(&opid);
                        ConflictValue {
                            value,
                            by,
                            at_ms,
                            change,
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    /// Every change to the record, oldest first (causal order).
    pub fn history(&mut self) -> Vec<HistoryEntry> {
        self.doc
            .get_changes_meta(&[])
            .into_iter()
            .map(|m| {
                let note = parse_note(m.message.as_deref());
                HistoryEntry {
                    change: m.hash.to_string(),
                    by: note.by,
                    at_ms: m.timestamp,
                    what: note.what,
                    actor: m.actor.to_hex_string(),
                }
            })
            .collect()
    }

    /// The record as it was at `at_ms`: with every change made at or before that time (and
    /// what those changes depended on).
    pub fn as_of(&mut self, at_ms: i64) -> Result<Value, DocError> {
        let heads: Vec<ChangeHash> = self
            .doc
            .get_changes_meta(&[])
            .into_iter()
            .filter(|m| m.timestamp <= at_ms)
            .map(|m| m.hash)
            .collect();
        if heads.is_empty() {
            return Ok(Value::Null);
        }
        Ok(value_of(
            &self.doc,
            &ObjId::Root,
            ObjType::Map,
            Some(&heads),
        ))
    }

    /// The time of the latest change (milliseconds), or 0 for an empty document.
    pub fn last_change_ms(&mut self) -> i64 {
        self.doc
            .get_changes_meta(&[])
            .iter()
            .map(|m| m.timestamp)
            .max()
            .unwrap_or(0)
    }

    /// What a device that does not hold this document needs to list it, beside `value` (the
    /// document's value, already read): the newest change time and the unsettled conflicts.
    /// Conflicts are not looked for when one actor wrote every change: one author's changes
    /// are totally ordered.
    pub fn materialize(&mut self, value: &Value) -> Option<Materialized> {
        let metas = self.doc.get_changes_meta(&[]);
        let changed_ms = metas.iter().map(|m| m.timestamp).max().unwrap_or(0);
        let one_actor = metas.iter().all(|m| m.actor == metas[0].actor);
        let conflicts = if one_actor {
            0
        } else {
            u32::try_from(self.conflicts().len()).unwrap_or(u32::MAX)
        };
        Some(Materialized {
            changed_ms,
            conflicts,
            value: Some(serde_json::value::to_raw_value(value).ok()?),
            row: None,
        })
    }

    /// The underlying Automerge document, for callers that need more.
    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    fn op_origin(&mut self, opid: &ObjId) -> (Author, i64, String) {
        let Some(hash) = self.doc.hash_for_opid(opid) else {
            return (Author::default(), 0, String::new());
        };
        match self.doc.get_change_meta_by_hash(&hash) {
            Some(m) => (
                parse_note(m.message.as_deref()).by,
                m.timestamp,
                hash.to_string(),
            ),
            None => (Author::default(), 0, hash.to_string()),
        }
    }

    fn resolve_parent(&self, path: &FieldPath) -> Result<(ObjId, Prop), DocError> {
        let missing = || DocError::NoSuchField(path.to_string());
        let (last, init) = path.0.split_last().ok_or_else(missing)?;
        let mut obj = ObjId::Root;
        for seg in init {
            obj = match self.doc.get(&obj, prop_of(seg))? {
                Some((AmValue::Object(_), id)) => id,
                _ => return Err(missing()),
            };
        }
        let prop = prop_of(last);
        if self.doc.get(&obj, prop.clone())?.is_none() {
            return Err(missing());
        }
        Ok((obj, prop))
    }
}

impl Clone for RecordDoc {
    fn clone(&self) -> Self {
        let mut doc = self.doc.clone();
        let actor = doc.get_actor().clone();
        RecordDoc {
            doc: doc.fork().with_actor(actor),
        }
    }
}

/// Parses change hashes from their hex form.
pub fn parse_heads<S: AsRef<str>>(hashes: &[S]) -> Result<Vec<ChangeHash>, DocError> {
    hashes
        .iter()
        .map(|h| {
            h.as_ref()
                .parse()
                .map_err(|_| DocError::BadHash(h.as_ref().to_owned()))
        })
        .collect()
}

/// Formats change hashes as hex.
pub fn format_heads(heads: &[ChangeHash]) -> Vec<String> {
    heads.iter().map(ChangeHash::to_string).collect()
}

/// Checks that `bytes` is a well-formed sequence of Automerge chunks (documents or changes)
/// without applying anything, so that corrupt input can be refused before it touches state.
///
/// Automerge's own incremental load skips a damaged tail with only a warning; a sync server
/// must instead refuse the whole input and say so.
pub fn check_bytes(bytes: &[u8]) -> Result<(), DocError> {
    for (chunk_type, chunk) in split_chunks(bytes)? {
        match chunk_type {
            0 => {
                let opts = automerge::LoadOptions::new()
                    .on_partial_load(automerge::OnPartialLoad::Error)
                    .verification_mode(automerge::VerificationMode::Check);
                automerge::Automerge::load_with_options(chunk, opts)
                    .map_err(|e| DocError::Corrupt(e.to_string()))?;
            }
            1 | 2 => {
                automerge::Change::from_bytes(chunk.to_vec())
                    .map_err(|e| DocError::Corrupt(e.to_string()))?;
            }
            other => return Err(DocError::Corrupt(format!("unsupported chunk type {other}"))),
        }
    }
    Ok(())
}

/// The cheap part of [`check_bytes`], for bytes whose contents a trusted peer has already
/// read (a whole document the server sends with its value): the chunks' headers add up, and
/// each document or plain change chunk matches its checksum (the first four bytes of the
/// SHA-256 of its type, length and contents). The contents are read when the document is
/// first loaded.
pub fn check_chunks(bytes: &[u8]) -> Result<(), DocError> {
    use sha2::Digest as _;
    for (chunk_type, chunk) in split_chunks(bytes)? {
        match chunk_type {
            0 | 1 => {
                if sha2::Sha256::digest(&chunk[8..])[..4] != chunk[4..8] {
                    return Err(DocError::Corrupt(
                        "a chunk's checksum does not match".into(),
                    ));
                }
            }
            2 => {}
            other => return Err(DocError::Corrupt(format!("unsupported chunk type {other}"))),
        }
    }
    Ok(())
}

/// Splits `bytes` into chunks (type, the whole chunk), checking only that the headers add up.
fn split_chunks(bytes: &[u8]) -> Result<Vec<(u8, &[u8])>, DocError> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    let corrupt = |what: &str| DocError::Corrupt(what.to_owned());
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 9 || rest[..4] != MAGIC {
            return Err(corrupt("a chunk does not start with the Automerge header"));
        }
        let chunk_type = rest[8];
        let (len, used) = read_uleb(&rest[9..]).ok_or_else(|| corrupt("bad chunk length"))?;
        let end = 9usize
            .checked_add(used)
            .and_then(|h| h.checked_add(usize::try_from(len).ok()?))
            .filter(|&e| e <= rest.len())
            .ok_or_else(|| corrupt("a chunk is cut short"))?;
        out.push((chunk_type, &rest[..end]));
        rest = &rest[end..];
    }
    Ok(out)
}

fn read_uleb(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * u32::try_from(i).ok()?)?;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn prop_of(seg: &PathSeg) -> Prop {
    match seg {
        PathSeg::Key(k) => Prop::Map(k.clone()),
        PathSeg::Index(i) => Prop::Seq(*i),
    }
}

fn commit(doc: &mut AutoCommit, by: &Author, what: Vec<String>, at_ms: i64) -> Option<ChangeHash> {
    let note = ChangeNote {
        by: by.clone(),
        what,
    };
    let message = serde_json::to_string(&note).unwrap_or_default();
    doc.commit_with(
        CommitOptions::default()
            .with_message(message)
            .with_time(at_ms),
    )
}

fn parse_note(message: Option<&str>) -> ChangeNote {
    message
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default()
}

fn scalar_of(v: &Value) -> Option<ScalarValue> {
    Some(match v {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                ScalarValue::Int(i)
            } else if let Some(u) = n.as_u64() {
                ScalarValue::Uint(u)
            } else {
                ScalarValue::F64(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => ScalarValue::Str(s.as_str().into()),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

fn is_text(prop: &Prop, v: &Value, text_keys: TextKeys<'_>) -> bool {
    matches!((prop, v), (Prop::Map(k), Value::String(_)) if text_keys.contains(&k.as_str()))
}

/// Writes `v` fresh at `prop` of `obj` (a put, or an insert when `insert` is set).
fn put_new(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: Prop,
    v: &Value,
    text_keys: TextKeys<'_>,
    insert: bool,
) -> Result<(), DocError> {
    match v {
        Value::Object(_) | Value::Array(_) => {
            let key = match &prop {
                Prop::Map(k) => Some(k.as_str()),
                Prop::Seq(_) => None,
            };
            // One batch insert of the whole subtree.
            let tree = to_hydrate(key, v, text_keys, doc.text_encoding());
            doc.batch_create_object(obj, prop, &tree, insert)?;
        }
        Value::String(text) if is_text(&prop, v, text_keys) => {
            let id = match (&prop, insert) {
                (Prop::Seq(i), true) => doc.insert_object(obj, *i, ObjType::Text)?,
                _ => doc.put_object(obj, prop, ObjType::Text)?,
            };
            doc.splice_text(&id, 0, 0, text)?;
        }
        scalar => {
            let s = scalar_of(scalar).unwrap_or(ScalarValue::Null);
            match (&prop, insert) {
                (Prop::Seq(i), true) => doc.insert(obj, *i, s)?,
                _ => doc.put(obj, prop, s)?,
            }
        }
    }
    Ok(())
}

/// The Automerge tree for a JSON value; strings under `text_keys` become text.
fn to_hydrate(
    key: Option<&str>,
    v: &Value,
    text_keys: TextKeys<'_>,
    encoding: automerge::TextEncoding,
) -> hydrate::Value {
    match v {
        Value::String(s) if key.is_some_and(|k| text_keys.contains(&k)) => {
            hydrate::Value::text(encoding, s)
        }
        Value::Object(m) => {
            let map: HashMap<String, hydrate::Value> = m
                .iter()
                .map(|(k, v)| (k.clone(), to_hydrate(Some(k), v, text_keys, encoding)))
                .collect();
            hydrate::Value::Map(hydrate::Map::from(map))
        }
        Value::Array(items) => hydrate::Value::List(hydrate::List::from(
            items
                .iter()
                .map(|v| to_hydrate(None, v, text_keys, encoding))
                .collect::<Vec<_>>(),
        )),
        scalar => hydrate::Value::Scalar(scalar_of(scalar).unwrap_or(ScalarValue::Null)),
    }
}

/// Brings the value at `prop` of `obj` from `old` to `new`, touching as little as possible.
fn diff_value(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: Prop,
    old: &Value,
    new: &Value,
    text_keys: TextKeys<'_>,
) -> Result<(), DocError> {
    if old == new {
        return Ok(());
    }
    let current = doc.get(obj, prop.clone())?;
    match (current, new) {
        (Some((AmValue::Object(ObjType::Text), id)), Value::String(s))
            if is_text(&prop, new, text_keys) =>
        {
            doc.update_text(&id, s)?;
        }
        (Some((AmValue::Object(ObjType::Map), id)), Value::Object(nm)) => {
            let empty = Map::new();
            let om = old.as_object().unwrap_or(&empty);
            diff_map(doc, &id, om, nm, text_keys)?;
        }
        (Some((AmValue::Object(ObjType::List), id)), Value::Array(nl)) => {
            let empty = Vec::new();
            let ol = old.as_array().unwrap_or(&empty);
            diff_list(doc, &id, ol, nl, text_keys)?;
        }
        _ => put_new(doc, obj, prop, new, text_keys, false)?,
    }
    Ok(())
}

fn diff_map(
    doc: &mut AutoCommit,
    obj: &ObjId,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    text_keys: TextKeys<'_>,
) -> Result<(), DocError> {
    for (k, nv) in new {
        match old.get(k) {
            Some(ov) if ov == nv => {}
            Some(ov) => diff_value(doc, obj, Prop::Map(k.clone()), ov, nv, text_keys)?,
            None => diff_value(doc, obj, Prop::Map(k.clone()), &Value::Null, nv, text_keys)?,
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            doc.delete(obj, k.as_str())?;
        }
    }
    Ok(())
}

fn element_id(v: &Value) -> Option<&str> {
    v.get("id").and_then(Value::as_str)
}

/// The ids of the map elements of the list `obj` in the document, by position.
fn doc_list_ids(doc: &AutoCommit, obj: &ObjId) -> Result<Vec<Option<String>>, DocError> {
    // One pass over the list: a lookup by index walks the list from its start each time.
    let mut ids = Vec::with_capacity(doc.length(obj));
    for item in doc.list_range(obj, ..) {
        let id = match item.value {
            ValueRef::Object(ObjType::Map) => map_id(doc, &item.id())?,
            _ => None,
        };
        ids.push(id);
    }
    Ok(ids)
}

/// The `id` of the map `el` (a keyed list's element), if it has a string one.
fn map_id(doc: &AutoCommit, el: &ObjId) -> Result<Option<String>, DocError> {
    Ok(match doc.get(el, "id")? {
        Some((AmValue::Scalar(s), _)) => s.as_str().map(str::to_owned),
        _ => None,
    })
}

fn diff_list(
    doc: &mut AutoCommit,
    obj: &ObjId,
    old: &[Value],
    new: &[Value],
    text_keys: TextKeys<'_>,
) -> Result<(), DocError> {
    let keyed = old.iter().chain(new).all(|v| element_id(v).is_some());
    if keyed && !(old.is_empty() && new.is_empty()) {
        return diff_keyed_list(doc, obj, old, new, text_keys);
    }
    // Positional: keep the common prefix and suffix, edit objects in place, and replace the
    // middle run of scalars.
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];
    let both = old_mid.len().min(new_mid.len());
    let len = doc.length(obj);
    for i in 0..both {
        let at = prefix + i;
        if at < len {
            diff_value(doc, obj, Prop::Seq(at), &old_mid[i], &new_mid[i], text_keys)?;
        } else {
            put_new(doc, obj, Prop::Seq(at), &new_mid[i], text_keys, true)?;
        }
    }
    if old_mid.len() > both {
        for _ in both..old_mid.len() {
            let at = prefix + both;
            if at < doc.length(obj) {
                doc.delete(obj, at)?;
            }
        }
    } else {
        for (i, v) in new_mid.iter().enumerate().skip(both) {
            let at = (prefix + i).min(doc.length(obj));
            put_new(doc, obj, Prop::Seq(at), v, text_keys, true)?;
        }
    }
    Ok(())
}

/// The ids of `old`, if the document's list `obj` has as many elements and the same first
/// and last ids; `None` when that cannot be trusted.
fn old_ids_if_current(
    doc: &AutoCommit,
    obj: &ObjId,
    old: &[Value],
) -> Result<Option<Vec<Option<String>>>, DocError> {
    let len = doc.length(obj);
    if len != old.len() {
        return Ok(None);
    }
    let id_at = |i: usize| -> Result<Option<String>, DocError> {
        match doc.get(obj, i)? {
            Some((AmValue::Object(ObjType::Map), el)) => map_id(doc, &el),
            _ => Ok(None),
        }
    };
    let ids: Vec<Option<String>> = old
        .iter()
        .map(|v| element_id(v).map(str::to_owned))
        .collect();
    if let (Some(first), Some(last)) = (ids.first(), ids.last())
        && (id_at(0)? != *first || id_at(len - 1)? != *last)
    {
        return Ok(None);
    }
    Ok(Some(ids))
}

fn diff_keyed_list(
    doc: &mut AutoCommit,
    obj: &ObjId,
    old: &[Value],
    new: &[Value],
    text_keys: TextKeys<'_>,
) -> Result<(), DocError> {
    let old_by_id: HashMap<&str, &Value> = old
        .iter()
        .filter_map(|v| Some((element_id(v)?, v)))
        .collect();
    let new_ids: BTreeSet<&str> = new.iter().filter_map(element_id).collect();
    // Deletions first, from the back, so positions stay valid. Most edits delete nothing
    // (an appended event): then the document's list need not be read twice.
    if old_by_id.keys().any(|id| !new_ids.contains(id)) {
        let before = doc_list_ids(doc, obj)?;
        for (i, id) in before.iter().enumerate().rev() {
            if let Some(id) = id
                && old_by_id.contains_key(id.as_str())
                && !new_ids.contains(id.as_str())
            {
                doc.delete(obj, i)?;
            }
        }
    }
    // The document's ids by position, kept in step with each insert. `old` is the document's
    // list as read (every element parsed, in order), so when its length and ends agree its ids
    // are the document's, without reading every element's id back (most of an edit's cost on
    // a record with many events).
    let mut ids = match old_ids_if_current(doc, obj, old)? {
        Some(ids) => ids,
        None => doc_list_ids(doc, obj)?,
    };
    let mut prev: Option<&str> = None;
    for nv in new {
        let Some(id) = element_id(nv) else { continue };
        let ov = old_by_id.get(id).copied();
        if ov == Some(nv) {
            prev = Some(id);
            continue;
        }
        match ids.iter().position(|d| d.as_deref() == Some(id)) {
            Some(pos) => {
                let ov = ov.unwrap_or(&Value::Null);
                diff_value(doc, obj, Prop::Seq(pos), ov, nv, text_keys)?;
            }
            None => {
                let at = match prev {
                    Some(p) => ids
                        .iter()
                        .position(|d| d.as_deref() == Some(p))
                        .map_or(ids.len(), |i| i + 1),
                    None => 0,
                };
                put_new(doc, obj, Prop::Seq(at), nv, text_keys, true)?;
                ids.insert(at, Some(id.to_owned()));
            }
        }
        prev = Some(id);
    }
    Ok(())
}

fn scalar_to_json(s: &ScalarValueRef<'_>) -> Value {
    match s {
        ScalarValueRef::Str(s) => Value::String(s.to_string()),
        ScalarValueRef::Int(i) | ScalarValueRef::Counter(i) | ScalarValueRef::Timestamp(i) => {
            Value::Number((*i).into())
        }
        ScalarValueRef::Uint(u) => Value::Number((*u).into()),
        ScalarValueRef::F64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        ScalarValueRef::Boolean(b) => Value::Bool(*b),
        ScalarValueRef::Bytes(b) => Value::String(hex::encode(b)),
        ScalarValueRef::Unknown { .. } | ScalarValueRef::Null => Value::Null,
    }
}

/// The JSON value of object `obj` (of type `typ`), now or as at `heads`; for a conflicted
/// field, the winner.
///
/// Walks the object through the range iterators rather than `hydrate`, which builds an
/// intermediate tree: half the work, and this runs on every load, merge and push decision.
fn value_of(doc: &AutoCommit, obj: &ObjId, typ: ObjType, heads: Option<&[ChangeHash]>) -> Value {
    let item = |v: &ValueRef<'_>, id: &dyn Fn() -> ObjId| match v {
        ValueRef::Scalar(s) => scalar_to_json(s),
        ValueRef::Object(t) => value_of(doc, &id(), *t, heads),
    };
    match typ {
        ObjType::Map | ObjType::Table => {
            let range = match heads {
                Some(h) => doc.map_range_at(obj, .., h),
                None => doc.map_range(obj, ..),
            };
            Value::Object(
                range
                    .map(|e| {
                        let v = item(&e.value, &|| e.id());
                        (e.key.into_owned(), v)
                    })
                    .collect(),
            )
        }
        ObjType::List => {
            let range = match heads {
                Some(h) => doc.list_range_at(obj, .., h),
                None => doc.list_range(obj, ..),
            };
            Value::Array(range.map(|e| item(&e.value, &|| e.id())).collect())
        }
        ObjType::Text => Value::String(
            match heads {
                Some(h) => doc.text_at(obj, h),
                None => doc.text(obj),
            }
            .unwrap_or_default(),
        ),
    }
}

fn am_to_json(doc: &AutoCommit, value: &AmValue<'_>, id: &ObjId) -> Value {
    match value {
        AmValue::Scalar(s) => scalar_to_json(&ScalarValueRef::from(s.as_ref().clone())),
        AmValue::Object(t) => value_of(doc, id, *t, None),
    }
}

type FoundConflict = (Vec<PathSeg>, Vec<(Value, ObjId)>);

fn collect_conflicts(
    doc: &AutoCommit,
    obj: &ObjId,
    typ: ObjType,
    path: &mut Vec<PathSeg>,
    found: &mut Vec<FoundConflict>,
) {
    let props: Vec<Prop> = match typ {
        ObjType::Map | ObjType::Table => doc.keys(obj).map(Prop::Map).collect(),
        ObjType::List => (0..doc.length(obj)).map(Prop::Seq).collect(),
        ObjType::Text => return,
    };
    for prop in props {
        let Ok(all) = doc.get_all(obj, prop.clone()) else {
            continue;
        };
        let seg = match &prop {
            Prop::Map(k) => PathSeg::Key(k.clone()),
            Prop::Seq(i) => PathSeg::Index(*i),
        };
        path.push(seg);
        if all.len() > 1 {
            // get_all lists the values in op order; the winner (what `get` returns) is last.
            let values = all
                .iter()
                .rev()
                .map(|(v, id)| (am_to_json(doc, v, id), id.clone()))
                .collect();
            found.push((path.clone(), values));
        } else if let Some((AmValue::Object(t), id)) = all.first() {
            collect_conflicts(doc, id, *t, path, found);
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEXT: &[&str] = &["description", "notes"];

    fn author(u: &str) -> Author {
        Author {
            user: u.into(),
            name: u.into(),
            device: format!("dev-{u}"),
        }
    }

    fn base() -> Value {
        json!({
            "kind": "case",
            "id": "c1",
            "title": "噪音扰民",
            "description": "楼上装修噪音大。双方多次争吵。需要调解。",
            "risk": "low",
            "events": [{"id": "e1", "type": "raised"}],
            "places": ["a", "b"],
        })
    }

    fn pair() -> (RecordDoc, RecordDoc) {
        let mut a = RecordDoc::create(&[1; 16], &base(), TEXT, &author("a"), 1_000).unwrap();
        let b = RecordDoc::load(&a.save(), &[2; 16]).unwrap();
        (a, b)
    }

    fn sync(a: &mut RecordDoc, b: &mut RecordDoc) {
        let ab = a.save();
        let ba = b.save();
        a.merge_bytes(&ba).unwrap();
        b.merge_bytes(&ab).unwrap();
    }

    #[test]
    fn round_trips_a_value() {
        let mut d = RecordDoc::create(&[1; 16], &base(), TEXT, &author("a"), 1_000).unwrap();
        assert_eq!(d.to_value(), base());
        let loaded = RecordDoc::load(&d.save(), &[3; 16]).unwrap();
        assert_eq!(loaded.to_value(), base());
    }

    #[test]
    fn unknown_fields_survive_an_edit() {
        let mut newer = base();
        newer["future_field"] = json!({"x": 1});
        let mut d = RecordDoc::create(&[1; 16], &newer, TEXT, &author("a"), 1).unwrap();
        // This version does not know `future_field`: its view lacks it.
        let old = base();
        let mut new = base();
        new["title"] = json!("新标题");
        d.update(&old, &new, TEXT, &author("b"), 2).unwrap();
        let v = d.to_value();
        assert_eq!(v["future_field"], json!({"x": 1}));
        assert_eq!(v["title"], json!("新标题"));
    }

    #[test]
    fn concurrent_sentence_edits_both_survive() {
        let (mut a, mut b) = pair();
        let old = base();
        let mut na = old.clone();
        na["description"] = json!("楼上夜间装修噪音大。双方多次争吵。需要调解。");
        let mut nb = old.clone();
        nb["description"] = json!("楼上装修噪音大。双方多次争吵。已转人民调解。");
        a.update(&old, &na, TEXT, &author("a"), 2).unwrap();
        b.update(&old, &nb, TEXT, &author("b"), 3).unwrap();
        sync(&mut a, &mut b);
        let want = "楼上夜间装修噪音大。双方多次争吵。已转人民调解。";
        assert_eq!(a.to_value()["description"], json!(want));
        assert_eq!(b.to_value()["description"], json!(want));
    }

    #[test]
    fn concurrent_appends_to_keyed_list_both_survive() {
        let (mut a, mut b) = pair();
        let old = base();
        let mut na = old.clone();
        na["events"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "e2", "type": "escalated"}));
        let mut nb = old.clone();
        nb["events"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "e3", "type": "referred"}));
        a.update(&old, &na, TEXT, &author("a"), 2).unwrap();
        b.update(&old, &nb, TEXT, &author("b"), 3).unwrap();
        sync(&mut a, &mut b);
        let ids: BTreeSet<String> = a.to_value()["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, ["e1", "e2", "e3"].map(String::from).into());
        assert_eq!(a.to_value(), b.to_value());
    }

    #[test]
    fn scalar_conflict_is_exposed_and_settled() {
        let (mut a, mut b) = pair();
        let old = base();
        let mut na = old.clone();
        na["risk"] = json!("high");
        let mut nb = old.clone();
        nb["risk"] = json!("medium");
        a.update(&old, &na, TEXT, &author("a"), 2).unwrap();
        b.update(&old, &nb, TEXT, &author("b"), 3).unwrap();
        sync(&mut a, &mut b);
        let ca = a.conflicts();
        assert_eq!(ca, b.conflicts());
        assert_eq!(ca.len(), 1);
        assert_eq!(ca[0].path.to_string(), "risk");
        let vals: BTreeSet<String> = ca[0].values.iter().map(|v| v.value.to_string()).collect();
        assert_eq!(vals, ["\"high\"", "\"medium\""].map(String::from).into());
        assert_eq!(ca[0].values[0].value, a.to_value()["risk"]);
        let users: BTreeSet<&str> = ca[0].values.iter().map(|v| v.by.user.as_str()).collect();
        assert_eq!(users, ["a", "b"].into());
        a.set_field(
            &"risk".parse().unwrap(),
            &json!("high"),
            TEXT,
            &author("s"),
            4,
        )
        .unwrap();
        assert!(a.conflicts().is_empty());
        sync(&mut a, &mut b);
        assert!(b.conflicts().is_empty());
        assert_eq!(b.to_value()["risk"], json!("high"));
    }

    #[test]
    fn history_and_as_of() {
        let mut d = RecordDoc::create(&[1; 16], &base(), TEXT, &author("a"), 1_000).unwrap();
        let mut new = base();
        new["title"] = json!("改");
        d.update(&base(), &new, TEXT, &author("b"), 2_000).unwrap();
        let h = d.history();
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].by.user, "b");
        assert_eq!(h[1].what, vec!["title".to_owned()]);
        assert_eq!(d.as_of(1_500).unwrap()["title"], json!("噪音扰民"));
        assert_eq!(d.as_of(2_000).unwrap()["title"], json!("改"));
        assert_eq!(d.as_of(10).unwrap(), Value::Null);
    }

    #[test]
    fn corrupt_bytes_are_refused_and_change_nothing() {
        let (mut a, _) = pair();
        let before = a.to_value();
        assert!(a.merge_bytes(b"garbage bytes, not automerge").is_err());
        let mut good = a.save();
        good.truncate(good.len() / 2);
        assert!(a.merge_bytes(&good).is_err());
        assert_eq!(a.to_value(), before);
    }

    #[test]
    fn positional_lists_and_deletes() {
        let mut d = RecordDoc::create(&[1; 16], &base(), TEXT, &author("a"), 1).unwrap();
        let mut new = base();
        new["places"] = json!(["a", "x", "b", "c"]);
        new.as_object_mut().unwrap().remove("risk");
        d.update(&base(), &new, TEXT, &author("a"), 2).unwrap();
        assert_eq!(d.to_value(), new);
        let mut newer = new.clone();
        newer["places"] = json!(["c"]);
        newer["events"] = json!([]);
        d.update(&new, &newer, TEXT, &author("a"), 3).unwrap();
        assert_eq!(d.to_value(), newer);
    }

    #[test]
    fn incremental_changes_merge_and_dedupe() {
        let (mut a, mut b) = pair();
        let known = a.heads();
        let mut na = base();
        na["title"] = json!("增量");
        a.update(&base(), &na, TEXT, &author("a"), 2).unwrap();
        let delta = a.changes_after(&known);
        assert!(!delta.is_empty());
        assert!(b.merge_bytes(&delta).unwrap() > 0);
        assert_eq!(b.merge_bytes(&delta).unwrap(), 0);
        assert_eq!(b.to_value(), a.to_value());
        let now = a.heads();
        assert!(a.changes_after(&now).is_empty());
    }

    #[test]
    fn field_paths_parse_and_print() {
        for s in ["risk", "parties[0].phone", "a.b[2][3].c"] {
            assert_eq!(s.parse::<FieldPath>().unwrap().to_string(), s);
        }
        assert!("".parse::<FieldPath>().is_err());
        assert!("a[x]".parse::<FieldPath>().is_err());
    }

    /// Automerge's own reading of a document, through `hydrate`: the reference that
    /// [`value_of`] must match.
    fn hydrated(doc: &AutoCommit, heads: Option<&[ChangeHash]>) -> Value {
        fn json(v: &hydrate::Value) -> Value {
            match v {
                hydrate::Value::Scalar(s) => scalar_to_json(&ScalarValueRef::from(s.clone())),
                hydrate::Value::Text(t) => Value::String(t.to_string()),
                hydrate::Value::Map(m) => Value::Object(
                    m.iter()
                        .map(|(k, mv)| (k.clone(), json(&mv.value)))
                        .collect(),
                ),
                hydrate::Value::List(l) => {
                    Value::Array(l.iter().map(|lv| json(&lv.value)).collect())
                }
            }
        }
        json(&doc.hydrate(&ObjId::Root, heads).unwrap())
    }

    fn field() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (0.0f64..1e6).prop_map(Value::from),
            "[a-c调解。]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-c]", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn record() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        (
            proptest::collection::btree_map("title|risk|description|notes|events|n", field(), 0..6),
            "[a-c调解。]{0,8}",
        )
            .prop_map(|(m, text)| {
                let mut v: Map<String, Value> = m.into_iter().collect();
                v.insert("description".into(), Value::from(text));
                Value::Object(v)
            })
    }

    proptest::proptest! {
        /// Concurrent edits of every shape (scalars against scalars and objects, lists,
        /// text, deletions): the walk reads what Automerge's `hydrate` reads, now and as at
        /// an earlier point.
        #[test]
        fn the_value_walk_reads_what_hydrate_reads(
            v0 in record(), va in record(), vb in record(), vc in record()
        ) {
            let mut a = RecordDoc::create(&[1; 16], &v0, TEXT, &author("a"), 1).unwrap();
            let mut b = RecordDoc::load(&a.save(), &[2; 16]).unwrap();
            let first = a.heads();
            a.update(&v0, &va, TEXT, &author("a"), 2).unwrap();
            b.update(&v0, &vb, TEXT, &author("b"), 3).unwrap();
            sync(&mut a, &mut b);
            let merged = a.to_value();
            a.update(&merged, &vc, TEXT, &author("a"), 4).unwrap();
            for d in [&a, &b] {
                proptest::prop_assert_eq!(d.to_value(), hydrated(&d.doc, None));
                proptest::prop_assert_eq!(
                    value_of(&d.doc, &ObjId::Root, ObjType::Map, Some(&first)),
                    hydrated(&d.doc, Some(&first))
                );
            }
        }
    }
}
