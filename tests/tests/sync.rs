//! Devices (real stores) syncing through a real server on 127.0.0.1, on SQLite and on
//! PostgreSQL.

mod common;

use common::*;
use gridwork_core::sync::SyncError;
use gridwork_schema::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

const FIRST: &str = "楼上夜间漏水。";
const LAST: &str = "已转人民调解。";

/// Three devices edit one case offline, then sync in the order given, then once more each.
async fn converge_in_order(backend: Backend, order: [usize; 3]) {
    let server = TestServer::start(backend).await;
    let url = server.url();
    let devices = [Device::new(), Device::new(), Device::new()];
    devices[0].login(&url, "grid1").await;
    devices[1].login(&url, "grid2").await;
    devices[2].login(&url, "street").await;
    let id = devices[0].new_case(grid_a(), "漏水纠纷");
    for d in &devices {
        d.sync().await.unwrap();
    }
    assert!(
        devices.iter().all(|d| d.has(&id)),
        "every device sees the case"
    );

    // Offline edits: first sentence + alert; last sentence + follow-up; escalation + whistle.
    let e_alert = devices[0].event(CaseEventKind::Alerted, "网格预警");
    let e_visit = devices[1].event(CaseEventKind::FollowUpVisit, "回访");
    let e_up = devices[2].event(CaseEventKind::Escalated { to: Level::Street }, "上报街道");
    let e_whistle = devices[2].event(CaseEventKind::WhistleBlown, "街道吹哨");
    let ids: Vec<String> = [&e_alert, &e_visit, &e_up, &e_whistle]
        .iter()
        .map(|e| e.id.clone())
        .collect();
    devices[0].edit_case(&id, |c| {
        c.description = c.description.replacen("楼上漏水。", FIRST, 1);
        c.events.push(e_alert);
    });
    devices[1].edit_case(&id, |c| {
        c.description = c.description.replacen("双方争执不下。", LAST, 1);
        c.events.push(e_visit);
    });
    devices[2].edit_case(&id, |c| {
        c.title = "漏水纠纷（街道）".into();
        c.events.push(e_up);
        c.events.push(e_whistle);
    });

    for &i in &order {
        devices[i].sync().await.unwrap();
    }
    for &i in &order {
        devices[i].sync().await.unwrap();
    }
    let heads = devices[0].heads(&id);
    let value = devices[0].value(&id);
    for d in &devices[1..] {
        assert_eq!(d.heads(&id), heads, "{backend:?} {order:?}: heads differ");
        assert_eq!(d.value(&id), value, "{backend:?} {order:?}: values differ");
    }
    let case = devices[0].case(&id);
    assert_eq!(case.description, format!("{FIRST}楼下要求赔偿。{LAST}"));
    assert_eq!(case.title, "漏水纠纷（街道）");
    for e in &ids {
        assert!(
            case.events.iter().any(|x| &x.id == e),
            "{backend:?} {order:?}: event lost"
        );
    }
    let state = case.state();
    assert_eq!(state.level, Level::Street);
    assert!(state.whistle && state.alerted);
    // Nothing is left to push anywhere.
    for d in &devices {
        assert_eq!(d.store.lock().unwrap().pending_count().unwrap(), 0);
    }
    server.stop().await;
}

const ORDERS: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_devices_converge_in_every_order_on_sqlite() {
    for order in ORDERS {
        converge_in_order(Backend::Sqlite, order).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_devices_converge_in_every_order_on_postgres() {
    for order in ORDERS {
        converge_in_order(Backend::Postgres, order).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_postgres_take_turns() {
    let server = TestServer::start(Backend::Postgres).await;
    let replica = server.replica().await;
    let (a, b) = (Device::new(), Device::new());
    a.login(&server.url(), "grid1").await;
    b.login(&replica.url(), "grid2").await;
    let mut ids = Vec::new();
    for round in 0..4 {
        // Each round the devices swap servers.
        let (ua, ub) = if round % 2 == 0 {
            (server.url(), replica.url())
        } else {
            (replica.url(), server.url())
        };
        a.point_at(&ua);
        b.point_at(&ub);
        ids.push(a.new_case(grid_a(), &format!("甲{round}")));
        ids.push(b.new_case(grid_a(), &format!("乙{round}")));
        a.sync().await.unwrap();
        b.sync().await.unwrap();
        let first = ids[0].clone();
        a.edit_case(&first, |c| c.title = format!("甲改{round}"));
        b.edit_case(&first, |c| {
            c.risk = [RiskLevel::Low, RiskLevel::High][round % 2]
        });
        a.sync().await.unwrap();
        b.sync().await.unwrap();
        a.sync().await.unwrap();
    }
    for id in &ids {
        assert!(a.has(id) && b.has(id), "both devices hold {id}");
        assert_eq!(a.heads(id), b.heads(id));
        assert_eq!(a.value(id), b.value(id));
    }
    assert_eq!(a.case(&ids[0]).title, "甲改3");
    assert_eq!(a.case(&ids[0]).risk, RiskLevel::High);
    replica.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_records_are_kept_marked_and_the_rest_lands() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let server = TestServer::start(backend).await;
        let worker = Device::new();
        worker.login(&server.url(), "grid1").await;
        let mine = worker.new_case(grid_a(), "本网格");
        // A case in a grid of another street: valid on the device, outside the worker's scope.
        let theirs = worker.new_case(grid_far(), "外网格");
        let report = worker.sync().await.unwrap();
        assert_eq!(report.pushed, 1, "{backend:?}");
        assert_eq!(report.refused.len(), 1, "{backend:?}");
        assert_eq!(report.refused[0].0, theirs);
        assert_eq!(report.refused[0].1.code, "out_of_scope");
        let status = gridwork_core::sync::status(&worker.store.lock().unwrap()).unwrap();
        assert_eq!(status.refused.len(), 1);
        assert_eq!(
            status.pending, 0,
            "refused records wait for an edit, not a retry loop"
        );
        // The device keeps the refused record and says why.
        let row = worker.store.lock().unwrap().row(&theirs).unwrap();
        assert!(row.pending);
        assert_eq!(row.refused.as_ref().unwrap().code, "out_of_scope");
        assert!(worker.has(&theirs));
        // A supervisor sees exactly the accepted one.
        let sup = Device::new();
        sup.login(&server.url(), "sup").await;
        sup.sync().await.unwrap();
        assert!(sup.has(&mine));
        assert!(!sup.has(&theirs));
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_decide_what_each_role_pulls() {
    let server = TestServer::start(Backend::Sqlite).await;
    let url = server.url();
    let sup = Device::new();
    sup.login(&url, "sup").await;
    let in_a = sup.new_case(grid_a(), "甲网格");
    let in_b = sup.new_case(grid_b(), "乙网格");
    let far = sup.new_case(grid_far(), "远处");
    let reported = sup.new_case(grid_far(), "部门报到");
    sup.sync().await.unwrap();
    // The department reports in on one case (from the supervisor's device here).
    let e = sup.event(
        CaseEventKind::DepartmentReported {
            department: "区住房和城乡建设局".into(),
            took_on: "查明原因".into(),
        },
        "",
    );
    sup.edit_case(&reported, |c| c.events.push(e));
    sup.sync().await.unwrap();
    let sees = |login: &'static str| {
        let url = url.clone();
        async move {
            let d = Device::new();
            d.login(&url, login).await;
            d.sync().await.unwrap();
            let mut ids = d.ids();
            ids.sort();
            ids
        }
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    assert_eq!(sees("grid1").await, sorted(vec![&in_a]));
    assert_eq!(sees("gridb").await, sorted(vec![&in_b]));
    assert_eq!(sees("legal").await, sorted(vec![&in_a, &in_b]));
    assert_eq!(sees("street").await, sorted(vec![&in_a, &in_b]));
    assert_eq!(sees("dept").await, sorted(vec![&reported]));
    assert_eq!(
        sees("leader").await,
        sorted(vec![&in_a, &in_b, &far, &reported])
    );
    server.stop().await;
}

/// A TCP proxy to `target` on a port of its own: the client's bytes go up as they are, the
/// server's answers through `down` (the server's read half, the client's write half), which
/// is called for each connection as it opens.
async fn tcp_proxy<F, Fut>(target: std::net::SocketAddr, down: F) -> String
where
    F: Fn(OwnedReadHalf, OwnedWriteHalf) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (mut cr, cw) = client.into_split();
            let Ok(upstream) = TcpStream::connect(target).await else {
                continue;
            };
            let (ur, mut uw) = upstream.into_split();
            let down = down(ur, cw);
            tokio::spawn(async move {
                let up = tokio::io::copy(&mut cr, &mut uw);
                tokio::select! { _ = up => {}, () = down => {} }
            });
        }
    });
    url
}

/// A TCP proxy that can cut the server's answer after a number of bytes, as a dropped mobile
/// connection would.
struct CuttingProxy {
    url: String,
    cut: std::sync::Arc<std::sync::Mutex<Option<usize>>>,
}

impl CuttingProxy {
    async fn start(target: std::net::SocketAddr) -> CuttingProxy {
        let cut = std::sync::Arc::new(std::sync::Mutex::new(None::<usize>));
        let limits = cut.clone();
        let url = tcp_proxy(target, move |mut ur, mut cw| {
            let limit = *limits.lock().unwrap();
            async move {
                let mut sent = 0usize;
                let mut buf = vec![0u8; 8192];
                loop {
                    let n = ur.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    let n = match limit {
                        Some(l) if sent + n >= l => {
                            let _ = cw.write_all(&buf[..l - sent]).await;
                            break;
                        }
                        _ => n,
                    };
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    sent += n;
                }
            }
        })
        .await;
        CuttingProxy { url, cut }
    }

    fn cut_after(&self, bytes: Option<usize>) {
        *self.cut.lock().unwrap() = bytes;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_loses_and_duplicates_nothing() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let server = TestServer::start(backend).await;
        let proxy = CuttingProxy::start(server.handle.local_addr()).await;
        let worker = Device::new();
        worker.login(&proxy.url, "grid1").await;
        let ids: Vec<String> = (0..120)
            .map(|i| worker.new_case(grid_a(), &format!("案件{i}")))
            .collect();

        // Mid-push: the server gets the whole request, the answer is cut.
        proxy.cut_after(Some(40));
        let err = worker.sync_with_retries(1).await.unwrap_err();
        assert!(
            matches!(err, SyncError::Unreachable(_) | SyncError::Protocol(_)),
            "{err}"
        );
        assert_eq!(
            worker.store.lock().unwrap().pending_count().unwrap(),
            120,
            "nothing acknowledged"
        );
        let head_after_cut = server.storage().log_state().await.unwrap().head;
        proxy.cut_after(None);
        let report = worker.sync().await.unwrap();
        assert_eq!(report.pushed, 120);
        assert_eq!(
            server.storage().log_state().await.unwrap().head,
            head_after_cut,
            "{backend:?}: pushing the same changes again appends nothing"
        );

        // Mid-pull: a fresh device's first page is cut; its cursor does not move.
        let sup = Device::new();
        sup.login(&proxy.url, "sup").await;
        proxy.cut_after(Some(2000));
        assert!(sup.sync_with_retries(1).await.is_err());
        let cursor = sup.store.lock().unwrap().meta("sync.cursor").unwrap();
        assert_eq!(cursor, None, "a cut page leaves the cursor where it was");
        proxy.cut_after(None);
        sup.sync().await.unwrap();
        let mut got = sup.ids();
        got.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(got, want, "{backend:?}: every record once");
        for id in &ids {
            assert_eq!(sup.value(id), worker.value(id));
        }
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_devices_and_disabled_users_are_stopped() {
    let server = TestServer::start(Backend::Sqlite).await;
    let a = Device::new();
    a.login(&server.url(), "grid1").await;
    a.sync().await.unwrap();
    let device_id = a.store.lock().unwrap().identity().device_id.to_string();
    assert!(server.storage().revoke_device(&device_id).await.unwrap());
    assert!(matches!(a.sync().await, Err(SyncError::Unauthorized(_))));
    let b = Device::new();
    b.login(&server.url(), "grid2").await;
    b.sync().await.unwrap();
    assert!(
        server
            .storage()
            .set_user_disabled("grid2", true)
            .await
            .unwrap()
    );
    assert!(matches!(b.sync().await, Err(SyncError::Unauthorized(_))));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_behind_the_compaction_floor_still_syncs() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let server = TestServer::start(backend).await;
        let a = Device::new();
        a.login(&server.url(), "grid1").await;
        let b = Device::new();
        b.login(&server.url(), "grid2").await;
        let first = a.new_case(grid_a(), "压缩前");
        a.sync().await.unwrap();
        b.sync().await.unwrap();
        // b falls behind while a keeps working, then the log is compacted.
        let later: Vec<String> = (0..5)
            .map(|i| a.new_case(grid_a(), &format!("后{i}")))
            .collect();
        a.edit_case(&first, |c| c.title = "压缩后".into());
        a.sync().await.unwrap();
        let state = server.storage().log_state().await.unwrap();
        server.storage().compact(state.head).await.unwrap();
        b.sync().await.unwrap();
        for id in later.iter().chain([&first]) {
            assert!(b.has(id), "{backend:?}: {id} missing after compaction");
            assert_eq!(b.heads(id), a.heads(id));
        }
        assert_eq!(b.case(&first).title, "压缩后");
        server.stop().await;
    }
}

/// A device's first pull stores each record from the server's whole document and the row the
/// server worked out from it, without loading the document: the rows must be the ones a load
/// would give (conflicts included), and the records must go on syncing as any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_pulled_with_their_rows_are_stored_as_a_load_would_store_them() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        // Pages of two: the pulls below take several, each asked for while the one before
        // it is applied.
        let server = TestServer::start_with(backend, |c| c.limits.max_pull_items = 2).await;
        let a = Device::new();
        a.login(&server.url(), "grid1").await;
        let b = Device::new();
        b.login(&server.url(), "grid2").await;
        // a's clock runs an hour ahead: a device that takes its records must move its own
        // clock past their stamps even without loading them.
        a.store
            .lock()
            .unwrap()
            .set_clock(|| chrono::Utc::now() + chrono::Duration::hours(1));
        let x = a.new_case(grid_a(), "漏水");
        a.store.lock().unwrap().set_clock(chrono::Utc::now);
        let y = a.new_case(grid_a(), "噪音");
        let more: Vec<String> = (0..5)
            .map(|i| a.new_case(grid_a(), &format!("其他{i}")))
            .collect();
        a.sync().await.unwrap();
        b.sync().await.unwrap();
        // A conflict on the server: both set the title offline.
        a.edit_case(&x, |c| c.title = "甲改".into());
        b.edit_case(&x, |c| c.title = "乙改".into());
        a.sync().await.unwrap();
        b.sync().await.unwrap();
        a.sync().await.unwrap();

        let c = Device::new();
        c.login(&server.url(), "sup").await;
        c.sync().await.unwrap();
        // The first pull took the stored rows: the records' documents were not loaded (their
        // synced heads are still "the snapshot's").
        let conn =
            rusqlite::Connection::open(c.dir.path().join(gridwork_core::store::DB_FILE)).unwrap();
        let unloaded: i64 = conn
            .query_row(
                "SELECT count(*) FROM docs WHERE synced_heads = 'snapshot'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(unloaded, 7, "{backend:?}: every record stored from its row");
        assert_eq!(c.ids().len(), 7);
        for id in &more {
            assert_eq!(c.heads(id), a.heads(id), "{backend:?}: heads differ");
        }
        // The indexes it put off while pulling are all there again.
        let indexes = |conn: &rusqlite::Connection| -> Vec<String> {
            let mut stmt = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let fresh = Device::new();
        let fresh_conn =
            rusqlite::Connection::open(fresh.dir.path().join(gridwork_core::store::DB_FILE))
                .unwrap();
        assert_eq!(indexes(&conn), indexes(&fresh_conn), "{backend:?}: indexes");
        drop(conn);
        // The same documents merged the ordinary way (loaded here) give the same rows.
        let reference = Device::new();
        for id in [&x, &y] {
            let bytes = a.store.lock().unwrap().saved_doc(id).unwrap();
            reference
                .store
                .lock()
                .unwrap()
                .merge(id, "case", &bytes, true)
                .unwrap();
            let want = reference.store.lock().unwrap().row(id).unwrap();
            let got = c.store.lock().unwrap().row(id).unwrap();
            assert_eq!(got, want, "{backend:?}: rows differ for {id}");
            assert_eq!(c.value(id), a.value(id), "{backend:?}: values differ");
            assert_eq!(c.heads(id), a.heads(id), "{backend:?}: heads differ");
        }
        assert_eq!(c.store.lock().unwrap().row(&x).unwrap().conflicts, 1);
        let stamped = c.case(&x).events.iter().map(|e| e.at.clone()).max();
        let next = c.store.lock().unwrap().next_hlc().unwrap();
        assert!(
            Some(next) > stamped,
            "{backend:?}: the clock observed the pulled stamps"
        );

        // Edits of such records push what is new: once (the heads worked out from the
        // snapshot), and after enough edits to rewrite the snapshot.
        c.edit_case(&x, |c| c.title = "督导定".into());
        for i in 0..=gridwork_core::store::COMPACT_AFTER {
            c.edit_case(&y, |c| c.persons_involved = 3 + u32::try_from(i).unwrap());
        }
        c.sync().await.unwrap();
        a.sync().await.unwrap();
        for id in [&x, &y] {
            assert_eq!(
                a.heads(id),
                c.heads(id),
                "{backend:?}: heads differ after edits"
            );
        }
        assert_eq!(a.case(&x).title, "督导定");
        assert_eq!(
            a.case(&y).persons_involved,
            3 + u32::try_from(gridwork_core::store::COMPACT_AFTER).unwrap()
        );
        assert_eq!(c.store.lock().unwrap().pending_count().unwrap(), 0);
        server.stop().await;
    }
}

/// A proxy that rewrites `from` into `to` wherever it occurs in the server's answers, as a
/// proxy that drops or mangles headers it does not know would.
async fn rewriting_proxy(
    target: std::net::SocketAddr,
    from: &'static [u8],
    to: &'static [u8],
) -> String {
    tcp_proxy(target, move |mut ur, mut cw| async move {
        // Holds back the last `from.len() - 1` bytes, as an occurrence may straddle two
        // reads, until more come or none has for a moment.
        let mut pending = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            let read = ur.read(&mut buf);
            let n = if pending.is_empty() {
                read.await.unwrap_or(0)
            } else {
                match tokio::time::timeout(std::time::Duration::from_millis(20), read).await {
                    Ok(r) => r.unwrap_or(0),
                    Err(_) => {
                        if cw.write_all(&pending).await.is_err() {
                            break;
                        }
                        pending.clear();
                        continue;
                    }
                }
            };
            if n == 0 {
                let _ = cw.write_all(&pending).await;
                break;
            }
            pending.extend_from_slice(&buf[..n]);
            let mut out = Vec::with_capacity(pending.len());
            let mut i = 0;
            while i + from.len() <= pending.len() {
                if pending[i..].starts_with(from) {
                    out.extend_from_slice(to);
                    i += from.len();
                } else {
                    out.push(pending[i]);
                    i += 1;
                }
            }
            pending.drain(..i);
            if cw.write_all(&out).await.is_err() {
                break;
            }
        }
    })
    .await
}

/// A pull asks for each page as soon as the headers of the one before name it; a proxy that
/// drops that header, or garbles it into another page's cursor, must cost nothing but the
/// head start: every record arrives, once, equal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_take_every_page_when_a_proxy_drops_or_garbles_the_next_page_header() {
    let server = TestServer::start_with(Backend::Sqlite, |c| c.limits.max_pull_items = 3).await;
    let worker = Device::new();
    worker.login(&server.url(), "grid1").await;
    let mut ids: Vec<String> = (0..20)
        .map(|i| worker.new_case(grid_a(), &format!("案件{i}")))
        .collect();
    ids.sort();
    worker.sync().await.unwrap();
    let cases: [(&str, &[u8], &[u8]); 3] = [
        ("as sent", b"", b""),
        ("dropped", b"gridwork-next-page:", b"x-gridwork-unknown:"),
        // "5 snapshot" becomes "15 snapshot": a cursor the page does not end at.
        ("garbled", b"gridwork-next-page: ", b"gridwork-next-page: 1"),
    ];
    for (what, from, to) in cases {
        let url = if from.is_empty() {
            server.url()
        } else {
            rewriting_proxy(server.handle.local_addr(), from, to).await
        };
        let sup = Device::new();
        sup.login(&url, "sup").await;
        // A client that followed a wrong header would pull on without end.
        let report = tokio::time::timeout(std::time::Duration::from_secs(60), sup.sync())
            .await
            .unwrap_or_else(|_| panic!("{what}: the pull did not end"))
            .unwrap();
        assert_eq!(report.pulled, ids.len(), "{what}: each record once");
        let mut got = sup.ids();
        got.sort();
        assert_eq!(got, ids, "{what}");
        for id in &ids {
            assert_eq!(sup.value(id), worker.value(id), "{what}");
        }
        // Nothing was skipped: the cursor is the server's head.
        let head = server.storage().log_state().await.unwrap().head;
        let cursor = sup.store.lock().unwrap().meta("sync.cursor").unwrap();
        assert_eq!(cursor, Some(head.to_string()), "{what}");
    }
    server.stop().await;
}

/// A server from before brotli bodies: answers `415` to `Content-Encoding: br` (as
/// tower-http's decompression does for an encoding it lacks) and takes zstd. Records the
/// encodings it saw.
async fn server_without_brotli() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = vec![0u8; 64 * 1024];
                // Headers, then as many body bytes as Content-Length says.
                let (head_end, length) = loop {
                    let n = conn.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                    if let Some(i) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&req[..i]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (i + 4, length);
                    }
                };
                while req.len() < head_end + length {
                    let n = conn.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&req[..head_end]).to_lowercase();
                let encoding = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-encoding:"))
                    .map(|v| v.trim().to_owned())
                    .unwrap_or_default();
                log.lock().unwrap().push(encoding.clone());
                let (status, body) = if encoding == "zstd" {
                    ("200 OK", r#"{"results":[]}"#)
                } else {
                    (
                        "415 Unsupported Media Type",
                        r#"{"code":"unsupported_encoding","message":"no such encoding"}"#,
                    )
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_brotli_bodies_gets_zstd() {
    use gridwork_core::sync::client::SyncClient;
    use gridwork_core::sync::machine::{Request, Response};
    let (url, seen) = server_without_brotli().await;
    let client = SyncClient::new(&url).unwrap().with_frames(2);
    let push = Request::Push(wire::PushRequest {
        protocol: wire::PROTOCOL_VERSION,
        schema_version: SCHEMA_VERSION,
        docs: Vec::new(),
    });
    for _ in 0..2 {
        let (answer, _, _) = client.send(&push).await.expect("the push lands");
        assert!(matches!(answer, Response::Push(r) if r.results.is_empty()));
    }
    // The first push went brotli and was refused; it went again as zstd, and so did the
    // next one, without asking again.
    assert_eq!(*seen.lock().unwrap(), vec!["br", "zstd", "zstd"]);
}
