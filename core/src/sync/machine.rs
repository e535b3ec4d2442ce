//! The client side of the sync protocol as a state machine without IO.
//!
//! The machine says which request to send next ([`SyncMachine::next_request`]) and takes each
//! response ([`SyncMachine::handle`]); the documents it reads and merges are behind the
//! [`LocalDocs`] trait, the network is the caller's. A session pushes every pending record
//! (in batches), pulls pages until the server has nothing more, then fetches whole any
//! document that came in lacking dependencies.

use std::collections::{BTreeSet, HashSet};

use gridwork_schema::SCHEMA_VERSION;
use gridwork_schema::wire::{
    DocOutcome, DocPush, DocsRequest, DocsResponse, NextPage, PROTOCOL_VERSION, PullItem,
    PullRequest, PullResponse, PushRequest, PushResponse, RefusalCode,
};
use serde::{Deserialize, Serialize};

use crate::store::{MergeItem, MergeOutcome, PendingDoc, Refusal, Result, Store, StoreError};

/// Most documents in one push.
pub const PUSH_BATCH_DOCS: usize = 200;
/// Most change bytes in one push (a single larger document still goes alone).
pub const PUSH_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// Items asked for per pull page.
pub const PULL_PAGE: u32 = 2000;

/// What the machine needs of the local documents.
pub trait LocalDocs {
    /// Records with unacknowledged changes, at most `limit`, skipping `skip`.
    fn pending(&mut self, limit: usize, skip: &HashSet<String>) -> Result<Vec<PendingDoc>>;
    /// A record's whole saved document (in `changes`) and its heads.
    fn whole(&mut self, id: &str) -> Result<PendingDoc>;
    /// The server acknowledged the changes up to `heads`.
    fn acknowledged(&mut self, id: &str, heads: &[String]) -> Result<()>;
    /// The server refused the record's changes.
    fn refused(&mut self, id: &str, refusal: &Refusal) -> Result<()>;
    /// Merges bytes from the server.
    fn merge(&mut self, item: &PullItem) -> Result<MergeOutcome>;
    /// Merges a page of items from the server, all or none; outcomes in the items' order.
    fn merge_page(&mut self, items: &[PullItem]) -> Result<Vec<MergeOutcome>> {
        items.iter().map(|item| self.merge(item)).collect()
    }
    /// The saved pull position: cursor and whether a snapshot pass is under way.
    fn cursor(&self) -> Result<(Option<u64>, bool)>;
    /// Saves the pull position (after the page's documents are merged).
    fn set_cursor(&mut self, cursor: u64, snapshot: bool) -> Result<()>;
    /// A pull from the start (no cursor) is about to begin: a store that holds nothing yet
    /// may put off per-record work (its secondary indexes) until [`LocalDocs::pull_done`].
    fn pull_from_start(&mut self) -> Result<()> {
        Ok(())
    }
    /// The pull has reached the server's head.
    fn pull_done(&mut self) -> Result<()> {
        Ok(())
    }
}

fn pull_request(cursor: Option<u64>, snapshot: bool) -> Request {
    Request::Pull(PullRequest {
        protocol: PROTOCOL_VERSION,
        schema_version: SCHEMA_VERSION,
        cursor,
        snapshot,
        limit: Some(PULL_PAGE),
        row_layout: crate::summary::ROW_LAYOUT,
    })
}

/// A request the caller must send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `POST /v1/push`.
    Push(PushRequest),
    /// `POST /v1/pull`.
    Pull(PullRequest),
    /// `POST /v1/docs`.
    Docs(DocsRequest),
}

/// The server's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// To a push.
    Push(PushResponse),
    /// To a pull.
    Pull(PullResponse),
    /// To a docs request.
    Docs(DocsResponse),
}

/// What a sync session did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Records whose changes the server accepted.
    pub pushed: usize,
    /// Records the server refused, with the reason.
    pub refused: Vec<(String, Refusal)>,
    /// Records that received new changes from the server.
    pub pulled: usize,
    /// Pull items received (including ones with nothing new).
    pub items: usize,
    /// Documents fetched whole because changes lacked their dependencies.
    pub fetched_whole: usize,
    /// Request bytes sent (bodies as on the wire, compressed).
    pub bytes_up: u64,
    /// Response bytes received (bodies as on the wire, compressed).
    pub bytes_down: u64,
    /// Attachments uploaded.
    pub attachments_up: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Push,
    Pull,
    Docs,
    Done,
}

/// One sync session's state.
#[derive(Debug)]
pub struct SyncMachine {
    phase: Phase,
    /// Heads sent per record in the push in flight.
    in_flight: Vec<(String, Vec<String>)>,
    /// Records already pushed (or refused) in this session.
    done: HashSet<String>,
    /// Records to push whole (the server lacked what their changes build on).
    whole: BTreeSet<String>,
    /// Records that came in lacking dependencies.
    incomplete: BTreeSet<String>,
    report: SyncReport,
}

impl Default for SyncMachine {
    fn default() -> Self {
        Self::new()
    }
}

impl SyncMachine {
    /// A new session, starting with the push.
    pub fn new() -> Self {
        SyncMachine {
            phase: Phase::Push,
            in_flight: Vec::new(),
            done: HashSet::new(),
            whole: BTreeSet::new(),
            incomplete: BTreeSet::new(),
            report: SyncReport::default(),
        }
    }

    /// What the session has done so far.
    pub fn report(&self) -> &SyncReport {
        &self.report
    }

    /// Counts bytes that went over the wire (the caller measures them).
    pub fn count_bytes(&mut self, up: u64, down: u64) {
        self.report.bytes_up += up;
        self.report.bytes_down += down;
    }

    /// Counts an uploaded attachment.
    pub fn count_attachment(&mut self) {
        self.report.attachments_up += 1;
    }

    /// The next request to send, or `None` when the session is complete.
    pub fn next_request(&mut self, docs: &mut impl LocalDocs) -> Result<Option<Request>> {
        loop {
            match self.phase {
                Phase::Push => {
                    if let Some(req) = self.build_push(docs)? {
                        return Ok(Some(Request::Push(req)));
                    }
                    self.phase = Phase::Pull;
                }
                Phase::Pull => {
                    let (cursor, snapshot) = docs.cursor()?;
                    if cursor.is_none() {
                        docs.pull_from_start()?;
                    }
                    return Ok(Some(pull_request(cursor, snapshot)));
                }
                Phase::Docs => {
                    if self.incomplete.is_empty() {
                        self.phase = Phase::Done;
                        continue;
                    }
                    let ids: Vec<String> = self.incomplete.iter().take(100).cloned().collect();
                    return Ok(Some(Request::Docs(DocsRequest {
                        protocol: PROTOCOL_VERSION,
                        schema_version: SCHEMA_VERSION,
                        ids,
                    })));
                }
                Phase::Done => return Ok(None),
            }
        }
    }

    fn build_push(&mut self, docs: &mut impl LocalDocs) -> Result<Option<PushRequest>> {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        self.in_flight.clear();
        // Documents the server asked for whole go first.
        while let Some(id) = self.whole.pop_first() {
            let p = docs.whole(&id)?;
            bytes += p.changes.len();
            self.in_flight.push((id, p.heads));
            batch.push(DocPush {
                id: p.id,
                kind: p.kind,
                changes: p.changes.into(),
            });
            if batch.len() >= PUSH_BATCH_DOCS || bytes >= PUSH_BATCH_BYTES {
                break;
            }
        }
        if batch.len() < PUSH_BATCH_DOCS && bytes < PUSH_BATCH_BYTES {
            let room = PUSH_BATCH_DOCS - batch.len();
            let mut skip = self.done.clone();
            skip.extend(self.in_flight.iter().map(|(id, _)| id.clone()));
            for p in docs.pending(room, &skip)? {
                if !batch.is_empty() && bytes + p.changes.len() > PUSH_BATCH_BYTES {
                    break;
                }
                bytes += p.changes.len();
                self.in_flight.push((p.id.clone(), p.heads));
                batch.push(DocPush {
                    id: p.id,
                    kind: p.kind,
                    changes: p.changes.into(),
                });
            }
        }
        if batch.is_empty() {
            return Ok(None);
        }
        Ok(Some(PushRequest {
            protocol: PROTOCOL_VERSION,
            schema_version: SCHEMA_VERSION,
            docs: batch,
        }))
    }

    /// The pull that follows `response` when it is a pull page with more to come: what
    /// [`SyncMachine::next_request`] asks for once the page is applied. A caller may send it
    /// while the page is applied (a pull only reads), and use its answer if the machine then
    /// asks for exactly that.
    pub fn next_pull(response: &Response) -> Option<Request> {
        match response {
            Response::Pull(r) => Self::pull_after(NextPage::of(r)),
            _ => None,
        }
    }

    /// The pull that follows a page of which the server said `next` (in its headers, before
    /// the page itself is read): what [`SyncMachine::next_pull`] gives for that page.
    pub fn pull_after(next: NextPage) -> Option<Request> {
        match next {
            NextPage::More { cursor, snapshot } => Some(pull_request(Some(cursor), snapshot)),
            NextPage::End => None,
        }
    }

    /// Takes the server's answer to the last request.
    pub fn handle(&mut self, docs: &mut impl LocalDocs, response: Response) -> Result<()> {
        match response {
            Response::Push(r) => self.handle_push(docs, r),
            Response::Pull(r) => self.handle_pull(docs, r),
            Response::Docs(r) => self.handle_docs(docs, r),
        }
    }

    fn handle_push(&mut self, docs: &mut impl LocalDocs, r: PushResponse) -> Result<()> {
        let sent = std::mem::take(&mut self.in_flight);
        for (id, heads) in sent {
            let Some(result) = r.results.iter().find(|x| x.id == id) else {
                // Not answered (a cut response): it stays pending for the next session.
                self.done.insert(id);
                continue;
            };
            match &result.outcome {
                DocOutcome::Accepted { .. } => {
                    docs.acknowledged(&id, &heads)?;
                    self.report.pushed += 1;
                    self.done.insert(id);
                }
                DocOutcome::Refused {
                    code: RefusalCode::MissingDeps,
                    ..
                } if !self.done.contains(&id) => {
                    // Once, push the whole document instead.
                    self.done.insert(id.clone());
                    self.whole.insert(id);
                }
                DocOutcome::Refused {
                    code,
                    message_zh,
                    message_en,
                } => {
                    let code = serde_json::to_value(code)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_else(|| "unknown".into());
                    let refusal = Refusal {
                        code,
                        message: format!("{message_zh} ({message_en})"),
                    };
                    docs.refused(&id, &refusal)?;
                    self.report.refused.push((id.clone(), refusal));
                    self.done.insert(id);
                }
            }
        }
        Ok(())
    }

    fn handle_pull(&mut self, docs: &mut impl LocalDocs, r: PullResponse) -> Result<()> {
        for (item, outcome) in r.items.iter().zip(docs.merge_page(&r.items)?) {
            self.report.items += 1;
            if outcome.new_ops > 0 {
                self.report.pulled += 1;
            }
            if outcome.incomplete {
                self.incomplete.insert(item.id.clone());
            } else {
                self.incomplete.remove(&item.id);
            }
        }
        docs.set_cursor(r.cursor, r.snapshot && r.more)?;
        if !r.more {
            docs.pull_done()?;
            self.phase = Phase::Docs;
        }
        Ok(())
    }

    fn handle_docs(&mut self, docs: &mut impl LocalDocs, r: DocsResponse) -> Result<()> {
        for (item, outcome) in r.items.iter().zip(docs.merge_page(&r.items)?) {
            self.report.fetched_whole += 1;
            if outcome.new_ops > 0 {
                self.report.pulled += 1;
            }
            self.incomplete.remove(&item.id);
        }
        // Whatever the server does not give us whole we cannot complete now.
        for id in &r.missing {
            self.incomplete.remove(id);
        }
        if r.items.is_empty() {
            self.incomplete.clear();
        }
        Ok(())
    }
}

const CURSOR_KEY: &str = "sync.cursor";
const SNAPSHOT_KEY: &str = "sync.snapshot";

impl LocalDocs for Store {
    fn pending(&mut self, limit: usize, skip: &HashSet<String>) -> Result<Vec<PendingDoc>> {
        let mut out = Store::pending(self, limit + skip.len())?;
        out.retain(|p| !skip.contains(&p.id));
        out.truncate(limit);
        Ok(out)
    }

    fn whole(&mut self, id: &str) -> Result<PendingDoc> {
        Ok(PendingDoc {
            id: id.to_owned(),
            kind: self.row(id)?.summary.kind,
            changes: self.saved_doc(id)?,
            heads: self.heads(id)?,
        })
    }

    fn acknowledged(&mut self, id: &str, heads: &[String]) -> Result<()> {
        self.mark_pushed(id, heads)
    }

    fn refused(&mut self, id: &str, refusal: &Refusal) -> Result<()> {
        self.mark_refused(id, refusal)
    }

    fn merge(&mut self, item: &PullItem) -> Result<MergeOutcome> {
        let mut out = self.merge_page(std::slice::from_ref(item))?;
        out.pop()
            .ok_or_else(|| StoreError::NotFound(item.id.clone()))
    }

    fn merge_page(&mut self, items: &[PullItem]) -> Result<Vec<MergeOutcome>> {
        let items: Vec<MergeItem<'_>> = items
            .iter()
            .map(|item| MergeItem {
                id: &item.id,
                kind: &item.kind,
                bytes: item.data.as_slice(),
                materialized: item.materialized.as_ref(),
            })
            .collect();
        self.merge_many(&items, true)
    }

    fn cursor(&self) -> Result<(Option<u64>, bool)> {
        let cursor = self.meta(CURSOR_KEY)?.and_then(|c| c.parse().ok());
        let snapshot = self.meta(SNAPSHOT_KEY)?.is_some_and(|s| s == "1");
        Ok((cursor, snapshot))
    }

    fn set_cursor(&mut self, cursor: u64, snapshot: bool) -> Result<()> {
        self.set_meta(CURSOR_KEY, Some(&cursor.to_string()))?;
        self.set_meta(SNAPSHOT_KEY, snapshot.then_some("1"))
    }

    fn pull_from_start(&mut self) -> Result<()> {
        self.defer_indexes_if_empty()
    }

    fn pull_done(&mut self) -> Result<()> {
        self.build_indexes()
    }
}
