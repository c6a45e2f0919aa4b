//! The durable task queue.

#![allow(clippy::unwrap_used)]

use super::*;

#[tokio::test]
async fn tasks_are_enqueued_read_and_listed_with_filters() {
    each_backend(|store| async move {
        let hana = store.create_user(new_user("hana", Role::Designer, at(0))).await.unwrap();
        let ivan = store.create_user(new_user("ivan", Role::Designer, at(0))).await.unwrap();

        let first = store.enqueue_task(&new_task("cad.render", at(5), Some(hana.id), at(1))).await.unwrap();
        assert_eq!(first.kind, "cad.render");
        assert_eq!(first.payload.0["nested"]["text"], "ünïcødé", "the payload round-trips");
        assert_eq!(first.state(), TaskState::Queued, "a new task waits in the queue");
        assert_eq!((first.progress, first.attempts, first.max_attempts), (0, 0, 3));
        assert_eq!(first.timeout_ms, 60_000);
        assert_eq!(first.run_after, at(5));
        assert_eq!((first.lease_token.as_deref(), first.lease_until), (None, None), "a queued task has no lease");
        assert!(!first.cancel_requested);
        assert_eq!((first.result.as_ref().map(|r| &r.0), first.error.as_deref()), (None, None));
        assert_eq!(first.created_by, Some(hana.id));
        assert_eq!((first.created_at, first.updated_at), (at(1), at(1)));
        assert_eq!((first.started_at, first.finished_at), (None, None));
        assert_eq!(snapshot(&task_now(&store, first.id).await), snapshot(&first), "get returns what enqueue returned");
        assert!(store.task(first.id + 1000).await.unwrap().is_none(), "an unknown id finds no task");

        let second = store.enqueue_task(&new_task("poster", at(1), Some(ivan.id), at(2))).await.unwrap();
        let third = store.enqueue_task(&new_task("cad.render", at(1), Some(hana.id), at(3))).await.unwrap();
        let fourth = store.enqueue_task(&new_task("poster", at(1), None, at(4))).await.unwrap();
        assert!(first.id < second.id && second.id < third.id && third.id < fourth.id, "task ids grow");
        store.cancel_task(second.id, at(6)).await.unwrap();

        let list = |query: TaskQuery| {
            let store = Arc::clone(&store);
            async move { ids(&store.list_tasks(&query).await.unwrap()) }
        };
        assert_eq!(
            list(TaskQuery { limit: 10, ..TaskQuery::default() }).await,
            vec![fourth.id, third.id, second.id, first.id],
            "tasks are listed newest first"
        );
        assert_eq!(
            list(TaskQuery { created_by: Some(hana.id), limit: 10, ..TaskQuery::default() }).await,
            vec![third.id, first.id],
            "created_by keeps one user's tasks"
        );
        assert_eq!(
            list(TaskQuery { state: Some(TaskState::Cancelled), limit: 10, ..TaskQuery::default() }).await,
            vec![second.id],
            "state keeps tasks in that state"
        );
        assert_eq!(
            list(TaskQuery { state: Some(TaskState::Queued), before_id: Some(fourth.id), limit: 10, created_by: None })
                .await,
            vec![third.id, first.id],
            "before_id pages backwards within the filter"
        );
        assert_eq!(
            list(TaskQuery { created_by: Some(hana.id), state: Some(TaskState::Queued), before_id: None, limit: 1 })
                .await,
            vec![third.id],
            "the filters combine and limit caps the page"
        );
        assert!(
            list(TaskQuery { state: Some(TaskState::Running), limit: 10, ..TaskQuery::default() }).await.is_empty(),
            "no task is running yet"
        );
    })
    .await;
}

#[tokio::test]
async fn claiming_respects_kinds_due_time_and_order() {
    each_backend(|store| async move {
        let render_later = store.enqueue_task(&new_task("cad.render", at(100), None, at(0))).await.unwrap();
        let render_now = store.enqueue_task(&new_task("cad.render", at(10), None, at(1))).await.unwrap();
        let poster = store.enqueue_task(&new_task("poster", at(5), None, at(2))).await.unwrap();

        assert!(
            store.claim_task(&kinds(&["cad.render", "poster"]), "L0", at(4), at(34)).await.unwrap().is_none(),
            "nothing is due before its run_after"
        );
        assert!(
            store.claim_task(&kinds(&["ocr"]), "L0", at(1000), at(1030)).await.unwrap().is_none(),
            "a worker only claims the kinds it runs"
        );
        assert!(store.claim_task(&[], "L0", at(1000), at(1030)).await.unwrap().is_none(), "no kinds, no task");

        let claimed = store.claim_task(&kinds(&["cad.render"]), "L1", at(10), at(40)).await.unwrap();
        let claimed = claimed.expect("a task due exactly now is claimable");
        assert_eq!(claimed.id, render_now.id, "only the due task of the claimed kind is taken");
        assert_eq!(claimed.state(), TaskState::Running);
        assert_eq!(claimed.attempts, 1, "a claim counts an attempt");
        assert_eq!(claimed.lease_token.as_deref(), Some("L1"), "the claimer's lease token is recorded");
        assert_eq!(claimed.lease_until, Some(at(40)));
        assert_eq!(claimed.started_at, Some(at(10)));
        assert_eq!(claimed.updated_at, at(10));
        assert_eq!(claimed.progress, 0);
        assert_eq!(snapshot(&task_now(&store, claimed.id).await), snapshot(&claimed), "claim returns the stored row");

        assert!(
            store.claim_task(&kinds(&["cad.render"]), "L2", at(11), at(41)).await.unwrap().is_none(),
            "a running task with a live lease is not claimed again, and the other render is not due"
        );

        let done = TaskOutcome::Succeeded { result: json!(null) };
        assert!(store.finish_task(claimed.id, "L1", &done, at(12)).await.unwrap(), "the lease holder finishes");

        // Both the poster (due at 5) and the later render (due at 100) are due at 200: earliest run_after first.
        let next = store.claim_task(&kinds(&["cad.render", "poster"]), "L3", at(200), at(10_000)).await.unwrap();
        assert_eq!(next.map(|t| t.id), Some(poster.id), "the task due earliest is claimed first");
        let last = store.claim_task(&kinds(&["poster", "cad.render"]), "L4", at(200), at(10_000)).await.unwrap();
        assert_eq!(last.map(|t| t.id), Some(render_later.id));
        assert!(
            store.claim_task(&kinds(&["cad.render", "poster"]), "L5", at(200), at(230)).await.unwrap().is_none(),
            "when every task is taken a claim returns none"
        );

        // Equal run_after: the older task (lower id) goes first.
        let older = store.enqueue_task(&new_task("poster", at(300), None, at(250))).await.unwrap();
        let newer = store.enqueue_task(&new_task("poster", at(300), None, at(251))).await.unwrap();
        let first = store.claim_task(&kinds(&["poster"]), "L6", at(300), at(330)).await.unwrap().unwrap();
        let second = store.claim_task(&kinds(&["poster"]), "L7", at(300), at(330)).await.unwrap().unwrap();
        assert_eq!((first.id, second.id), (older.id, newer.id), "ties on run_after go to the older task");
    })
    .await;
}

#[tokio::test]
async fn heartbeats_extend_the_lease_report_progress_and_relay_cancellation() {
    each_backend(|store| async move {
        let queued = store.enqueue_task(&new_task("cad.render", at(0), None, at(0))).await.unwrap();
        let task = store.claim_task(&kinds(&["cad.render"]), "lease-A", at(1), at(31)).await.unwrap().unwrap();
        assert_eq!(task.id, queued.id);

        let before = snapshot(&task);
        assert_eq!(
            store.heartbeat_task(task.id, "lease-B", 50, Some("stolen"), at(2), at(32)).await.unwrap(),
            None,
            "a heartbeat with someone else's lease token is refused"
        );
        assert_eq!(snapshot(&task_now(&store, task.id).await), before, "a refused heartbeat changes nothing");
        assert_eq!(
            store.heartbeat_task(task.id + 1000, "lease-A", 50, None, at(2), at(32)).await.unwrap(),
            None,
            "an unknown task has no lease"
        );

        assert_eq!(
            store.heartbeat_task(task.id, "lease-A", 40, Some("parsing"), at(10), at(40)).await.unwrap(),
            Some(false),
            "the lease holder's heartbeat is accepted, no cancel requested"
        );
        let beat = task_now(&store, task.id).await;
        assert_eq!(
            (beat.progress, beat.message.as_deref()),
            (40, Some("parsing")),
            "progress and message are recorded"
        );
        assert_eq!(beat.lease_until, Some(at(40)), "the lease is extended");
        assert_eq!(beat.updated_at, at(10));

        store.heartbeat_task(task.id, "lease-A", 150, None, at(11), at(41)).await.unwrap();
        let beat = task_now(&store, task.id).await;
        assert_eq!(beat.progress, 100, "progress is clamped to 100");
        assert_eq!(beat.message.as_deref(), Some("parsing"), "a heartbeat without a message keeps the last one");
        store.heartbeat_task(task.id, "lease-A", -5, None, at(12), at(42)).await.unwrap();
        assert_eq!(task_now(&store, task.id).await.progress, 0, "progress is clamped to 0");

        let flagged = store.cancel_task(task.id, at(20)).await.unwrap().expect("cancel returns the task");
        assert_eq!(flagged.state(), TaskState::Running, "a running task keeps running until its worker stops");
        assert!(flagged.cancel_requested, "cancelling a running task flags it");
        assert_eq!(flagged.finished_at, None);
        assert_eq!(flagged.lease_token.as_deref(), Some("lease-A"), "the worker keeps its lease");
        assert_eq!(
            store.heartbeat_task(task.id, "lease-A", 60, None, at(21), at(51)).await.unwrap(),
            Some(true),
            "the next heartbeat tells the worker to stop"
        );

        assert!(store.finish_task(task.id, "lease-A", &TaskOutcome::Cancelled, at(22)).await.unwrap());
        let done = task_now(&store, task.id).await;
        assert_eq!(done.state(), TaskState::Cancelled, "the worker confirms the cancellation");
        assert_eq!(done.finished_at, Some(at(22)));
        assert_eq!((done.lease_token, done.lease_until), (None, None), "a finished task holds no lease");
        assert_eq!(
            store.heartbeat_task(task.id, "lease-A", 70, None, at(23), at(53)).await.unwrap(),
            None,
            "a finished task takes no heartbeat"
        );
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_queued_task_ends_it_at_once() {
    each_backend(|store| async move {
        let task = store.enqueue_task(&new_task("poster", at(0), None, at(0))).await.unwrap();
        let cancelled = store.cancel_task(task.id, at(5)).await.unwrap().expect("cancel returns the task");
        assert_eq!(cancelled.state(), TaskState::Cancelled, "a queued task is cancelled at once");
        assert_eq!(cancelled.finished_at, Some(at(5)));
        assert_eq!(cancelled.updated_at, at(5));
        assert!(!cancelled.cancel_requested, "there is no worker to ask");
        assert_eq!(snapshot(&task_now(&store, task.id).await), snapshot(&cancelled), "cancel returns the stored row");
        assert!(
            store.claim_task(&kinds(&["poster"]), "L1", at(10), at(40)).await.unwrap().is_none(),
            "a cancelled task is never claimed"
        );
        assert!(store.cancel_task(task.id + 1000, at(5)).await.unwrap().is_none(), "an unknown task is not cancelled");

        let finished = store.enqueue_task(&new_task("poster", at(0), None, at(20))).await.unwrap();
        store.claim_task(&kinds(&["poster"]), "L2", at(21), at(51)).await.unwrap().unwrap();
        let ok = TaskOutcome::Succeeded { result: json!("done") };
        assert!(store.finish_task(finished.id, "L2", &ok, at(22)).await.unwrap());
        let after = store.cancel_task(finished.id, at(23)).await.unwrap().unwrap();
        assert_eq!(after.state(), TaskState::Succeeded, "cancelling a finished task does not undo it");
        assert!(!after.cancel_requested, "a finished task has no worker to ask");
        assert_eq!(after.finished_at, Some(at(22)), "a finished task keeps its finish instant");
    })
    .await;
}

#[tokio::test]
async fn finishing_a_task_records_each_outcome() {
    each_backend(|store| async move {
        let claim = |kind: &'static str, token: &'static str, now: i64| {
            let store = Arc::clone(&store);
            async move {
                let task = store.enqueue_task(&new_task(kind, at(now), None, at(now))).await.unwrap();
                let claimed = store.claim_task(&kinds(&[kind]), token, at(now), at(now + 30)).await.unwrap().unwrap();
                assert_eq!(claimed.id, task.id, "the task just enqueued is the one claimed");
                claimed
            }
        };

        // A wrong lease token changes nothing, whatever the outcome.
        let task = claim("k.wrong", "right", 0).await;
        let before = snapshot(&task);
        let every_outcome = [
            TaskOutcome::Succeeded { result: json!(1) },
            TaskOutcome::Failed { error: "e".into() },
            TaskOutcome::Retry { error: "e".into(), run_after: at(99) },
            TaskOutcome::Cancelled,
            TaskOutcome::Released,
        ];
        for outcome in &every_outcome {
            assert!(
                !store.finish_task(task.id, "wrong", outcome, at(5)).await.unwrap(),
                "{outcome:?} with a wrong lease token is refused"
            );
            assert_eq!(snapshot(&task_now(&store, task.id).await), before, "a refused {outcome:?} changes nothing");
            assert!(
                !store.finish_task(task.id + 1000, "right", outcome, at(5)).await.unwrap(),
                "{outcome:?} of an unknown task is refused"
            );
        }

        // Succeeded
        let task = claim("k.ok", "L-ok", 10).await;
        store.heartbeat_task(task.id, "L-ok", 40, Some("halfway"), at(11), at(41)).await.unwrap();
        let result = json!({ "svg": "files/abc", "layers": 12 });
        assert!(
            store
                .finish_task(task.id, "L-ok", &TaskOutcome::Succeeded { result: result.clone() }, at(12))
                .await
                .unwrap()
        );
        let done = task_now(&store, task.id).await;
        assert_eq!(done.state(), TaskState::Succeeded);
        assert_eq!(done.progress, 100, "a succeeded task is complete");
        assert_eq!(done.result.map(|r| r.0), Some(result), "the result is stored");
        assert_eq!(done.error, None);
        assert_eq!((done.lease_token, done.lease_until), (None, None), "the lease is given up");
        assert_eq!((done.finished_at, done.updated_at), (Some(at(12)), at(12)));
        assert_eq!(done.attempts, 1);
        assert!(
            !store.finish_task(task.id, "L-ok", &TaskOutcome::Failed { error: "late".into() }, at(13)).await.unwrap(),
            "a finished task cannot be finished again"
        );
        assert_eq!(task_now(&store, task.id).await.state(), TaskState::Succeeded, "the first outcome stands");

        // Failed
        let task = claim("k.fail", "L-fail", 20).await;
        let failed = TaskOutcome::Failed { error: "the DXF file is truncated".into() };
        assert!(store.finish_task(task.id, "L-fail", &failed, at(21)).await.unwrap());
        let done = task_now(&store, task.id).await;
        assert_eq!(done.state(), TaskState::Failed);
        assert_eq!(done.error.as_deref(), Some("the DXF file is truncated"), "the error is stored");
        assert_eq!((done.finished_at, done.updated_at), (Some(at(21)), at(21)));
        assert_eq!((done.lease_token, done.lease_until), (None, None));
        assert!(store.claim_task(&kinds(&["k.fail"]), "L-again", at(1000), at(1030)).await.unwrap().is_none());

        // Cancelled (without a cancel request: the worker may give up on its own)
        let task = claim("k.cancel", "L-cancel", 30).await;
        assert!(store.finish_task(task.id, "L-cancel", &TaskOutcome::Cancelled, at(31)).await.unwrap());
        let done = task_now(&store, task.id).await;
        assert_eq!(done.state(), TaskState::Cancelled);
        assert_eq!((done.finished_at, done.lease_token), (Some(at(31)), None));

        // Retry: back to the queue until run_after, counted as an attempt
        let task = claim("k.retry", "L-retry-1", 40).await;
        let retry = TaskOutcome::Retry { error: "upstream timed out".into(), run_after: at(100) };
        assert!(store.finish_task(task.id, "L-retry-1", &retry, at(41)).await.unwrap());
        let queued = task_now(&store, task.id).await;
        assert_eq!(queued.state(), TaskState::Queued, "a retried task waits in the queue again");
        assert_eq!(queued.run_after, at(100), "it waits for the backoff");
        assert_eq!(queued.error.as_deref(), Some("upstream timed out"), "the last error is kept for the user");
        assert_eq!(queued.attempts, 1, "the failed run counted as an attempt");
        assert_eq!((queued.lease_token, queued.lease_until, queued.finished_at), (None, None, None));
        assert_eq!(queued.updated_at, at(41));
        assert!(
            store.claim_task(&kinds(&["k.retry"]), "L-retry-2", at(99), at(129)).await.unwrap().is_none(),
            "a retried task is not claimed before its backoff ends"
        );
        let again = store.claim_task(&kinds(&["k.retry"]), "L-retry-2", at(100), at(130)).await.unwrap().unwrap();
        assert_eq!(again.attempts, 2, "the second run is the second attempt");
        assert_eq!(again.started_at, Some(at(40)), "started_at remembers the first start");

        // Released: back to the queue at once, not counted
        let task = claim("k.release", "L-rel-1", 50).await;
        assert_eq!(task.attempts, 1);
        assert!(store.finish_task(task.id, "L-rel-1", &TaskOutcome::Released, at(51)).await.unwrap());
        let released = task_now(&store, task.id).await;
        assert_eq!(released.state(), TaskState::Queued, "a released task is queued again");
        assert_eq!(released.attempts, 0, "a release does not count as an attempt");
        assert_eq!(released.run_after, at(51), "a released task is due at once");
        assert_eq!((released.lease_token, released.lease_until), (None, None));
        let again = store.claim_task(&kinds(&["k.release"]), "L-rel-2", at(52), at(82)).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (task.id, 1), "another worker picks it up as its first attempt");
    })
    .await;
}

#[tokio::test]
async fn a_task_handed_back_while_a_cancel_is_pending_ends_cancelled() {
    each_backend(|store| async move {
        for (kind, outcome) in [
            ("k.retry", TaskOutcome::Retry { error: "flaky".into(), run_after: at(90) }),
            ("k.release", TaskOutcome::Released),
        ] {
            let task = store.enqueue_task(&new_task(kind, at(0), None, at(0))).await.unwrap();
            let claimed = store.claim_task(&kinds(&[kind]), "L", at(1), at(31)).await.unwrap().unwrap();
            assert_eq!(claimed.id, task.id);
            store.cancel_task(task.id, at(2)).await.unwrap();
            assert!(store.finish_task(task.id, "L", &outcome, at(3)).await.unwrap());
            let ended = task_now(&store, task.id).await;
            assert_eq!(
                ended.state(),
                TaskState::Cancelled,
                "{kind}: a pending cancel wins over going back to the queue"
            );
            assert_eq!(ended.finished_at, Some(at(3)));
            assert!(
                store.claim_task(&kinds(&[kind]), "L2", at(100), at(130)).await.unwrap().is_none(),
                "{kind}: it never runs again"
            );
        }
        let done = store.enqueue_task(&new_task("k.done", at(0), None, at(0))).await.unwrap();
        store.claim_task(&kinds(&["k.done"]), "D", at(1), at(31)).await.unwrap();
        store
            .finish_task(done.id, "D", &TaskOutcome::Succeeded { result: serde_json::json!({}) }, at(2))
            .await
            .unwrap();
        let after = store.cancel_task(done.id, at(5)).await.unwrap().unwrap();
        assert_eq!(
            (after.state(), after.updated_at),
            (TaskState::Succeeded, at(2)),
            "cancelling an ended task changes nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn an_enqueue_retried_with_its_idempotency_key_returns_the_first_task() {
    each_backend(|store| async move {
        let ada = store.create_user(new_user("ada", Role::Designer, at(0))).await.unwrap();
        let bob = store.create_user(new_user("bob", Role::Designer, at(0))).await.unwrap();
        let keyed = |user: i64, key: &str| NewTask {
            idempotency_key: Some(key.into()),
            ..new_task("k.idem", at(0), Some(user), at(1))
        };
        let first = store.enqueue_task(&keyed(ada.id, "req-1")).await.unwrap();
        let again = store.enqueue_task(&keyed(ada.id, "req-1")).await.unwrap();
        assert_eq!(again.id, first.id, "the same key from the same user is the same task");
        let other_user = store.enqueue_task(&keyed(bob.id, "req-1")).await.unwrap();
        assert_ne!(other_user.id, first.id, "keys are per user");
        let other_key = store.enqueue_task(&keyed(ada.id, "req-2")).await.unwrap();
        assert_ne!(other_key.id, first.id);
        let unkeyed = store.enqueue_task(&new_task("k.idem", at(0), Some(ada.id), at(1))).await.unwrap();
        let unkeyed_again = store.enqueue_task(&new_task("k.idem", at(0), Some(ada.id), at(1))).await.unwrap();
        assert_ne!(unkeyed.id, unkeyed_again.id, "without a key every enqueue is new");
        let all = store
            .list_tasks(&TaskQuery { created_by: Some(ada.id), state: None, before_id: None, limit: 50 })
            .await
            .unwrap();
        assert_eq!(all.len(), 4, "no duplicate row was written");
    })
    .await;
}

#[tokio::test]
async fn an_expired_lease_hands_the_task_to_another_worker() {
    each_backend(|store| async move {
        let task = store.enqueue_task(&new_task("cad.render", at(0), None, at(0))).await.unwrap();
        let first = store.claim_task(&kinds(&["cad.render"]), "worker-1", at(1), at(31)).await.unwrap().unwrap();
        assert_eq!(first.id, task.id);
        store.heartbeat_task(task.id, "worker-1", 30, Some("a third"), at(10), at(40)).await.unwrap();

        assert!(
            store.claim_task(&kinds(&["cad.render"]), "worker-2", at(39), at(69)).await.unwrap().is_none(),
            "a live lease is respected"
        );
        assert!(
            store.claim_task(&kinds(&["cad.render"]), "worker-2", at(40), at(70)).await.unwrap().is_none(),
            "a lease is live up to and including lease_until"
        );
        let second = store.claim_task(&kinds(&["cad.render"]), "worker-2", at(41), at(71)).await.unwrap();
        let second = second.expect("after lease_until the task is claimable again: its worker is presumed dead");
        assert_eq!(second.id, task.id);
        assert_eq!(second.state(), TaskState::Running);
        assert_eq!(second.attempts, 2, "the lost run counted as an attempt");
        assert_eq!((second.lease_token.as_deref(), second.lease_until), (Some("worker-2"), Some(at(71))));
        assert_eq!(second.started_at, Some(at(1)), "started_at remembers the first start");
        assert_eq!(second.progress, 30, "progress survives the hand-over");

        let after_takeover = snapshot(&second);
        assert_eq!(
            store.heartbeat_task(task.id, "worker-1", 90, None, at(42), at(72)).await.unwrap(),
            None,
            "the old worker's heartbeat is refused"
        );
        for outcome in [TaskOutcome::Succeeded { result: json!("stale") }, TaskOutcome::Failed { error: "x".into() }] {
            assert!(
                !store.finish_task(task.id, "worker-1", &outcome, at(43)).await.unwrap(),
                "the old worker can no longer finish the task ({outcome:?})"
            );
        }
        assert_eq!(snapshot(&task_now(&store, task.id).await), after_takeover, "the old worker changed nothing");

        let ok = TaskOutcome::Succeeded { result: json!("fresh") };
        assert!(store.finish_task(task.id, "worker-2", &ok, at(44)).await.unwrap(), "the new lease holder finishes");
        assert_eq!(task_now(&store, task.id).await.result.map(|r| r.0), Some(json!("fresh")));
    })
    .await;
}

#[tokio::test]
async fn tasks_updated_since_feeds_changes_in_update_order() {
    each_backend(|store| async move {
        let a = store.enqueue_task(&new_task("k", at(0), None, at(1))).await.unwrap();
        let b = store.enqueue_task(&new_task("k", at(0), None, at(2))).await.unwrap();
        let c = store.enqueue_task(&new_task("k", at(0), None, at(3))).await.unwrap();
        store.cancel_task(a.id, at(4)).await.unwrap(); // a moves to the end of the feed

        let feed = |since: i64, limit: i64| {
            let store = Arc::clone(&store);
            async move { ids(&store.tasks_updated_since(at(since), limit).await.unwrap()) }
        };
        assert_eq!(feed(0, 10).await, vec![b.id, c.id, a.id], "changes come in update order");
        assert_eq!(feed(2, 10).await, vec![c.id, a.id], "since is exclusive: a change at exactly `since` was seen");
        assert_eq!(feed(0, 2).await, vec![b.id, c.id], "limit caps the batch, oldest changes first");
        assert!(feed(4, 10).await.is_empty(), "nothing changed after the last update");

        // Equal update instants are ordered by id, so a feed never reorders between polls.
        let d = store.enqueue_task(&new_task("k", at(0), None, at(9))).await.unwrap();
        let e = store.enqueue_task(&new_task("k", at(0), None, at(9))).await.unwrap();
        assert_eq!(feed(4, 10).await, vec![d.id, e.id], "ties on updated_at go by id");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_take_every_task_exactly_once() {
    each_database(|db| async move {
        const TASKS: usize = 20;
        const CLAIMERS: usize = 4;
        // Two stores with their own pools stand for two server instances sharing one database.
        let instances = [db.open_store().await, db.open_store().await];
        let store = Arc::clone(&instances[0]);
        let mut enqueued = BTreeSet::new();
        for i in 0..TASKS {
            let kind = if i % 2 == 0 { "cad.render" } else { "poster" };
            enqueued.insert(store.enqueue_task(&new_task(kind, at(0), None, at(0))).await.unwrap().id);
        }

        // All claimers start together, so their claims really overlap.
        let start = Arc::new(tokio::sync::Barrier::new(CLAIMERS));
        let claimers: Vec<_> = (0..CLAIMERS)
            .map(|w| {
                let (store, start) = (Arc::clone(&instances[w % instances.len()]), Arc::clone(&start));
                tokio::spawn(async move {
                    start.wait().await;
                    let mut mine = Vec::new();
                    let token = format!("worker-{w}");
                    let all_kinds = kinds(&["cad.render", "poster"]);
                    while let Some(task) = store.claim_task(&all_kinds, &token, at(1), at(1000)).await.unwrap() {
                        let ok = TaskOutcome::Succeeded { result: json!(w) };
                        let finished = store.finish_task(task.id, &token, &ok, at(2)).await.unwrap();
                        mine.push((task.id, task.lease_token, finished));
                    }
                    (token, mine)
                })
            })
            .collect();

        // Every claim, by task: (worker, lease token the claim returned, whether the worker could finish).
        let mut claims: BTreeMap<i64, Vec<(String, Option<String>, bool)>> = BTreeMap::new();
        for claimer in claimers {
            let (worker, mine) = claimer.await.unwrap();
            for (id, lease, finished) in mine {
                claims.entry(id).or_default().push((worker.clone(), lease, finished));
            }
        }
        let twice: Vec<_> = claims.iter().filter(|(_, c)| c.len() > 1).collect();
        assert!(twice.is_empty(), "no task is claimed by two workers, but these were: {twice:?}");
        for (id, claim) in &claims {
            let (worker, lease, finished) = &claim[0];
            assert_eq!(lease.as_ref(), Some(worker), "task {id}: the claim carries the claimer's lease token");
            assert!(finished, "task {id}: {worker} could finish the task it claimed");
        }
        let claimed: BTreeSet<i64> = claims.keys().copied().collect();
        assert_eq!(claimed, enqueued, "every enqueued task was claimed");
        for id in enqueued {
            let task = task_now(&store, id).await;
            assert_eq!(task.state(), TaskState::Succeeded, "task {id} ran to completion");
            assert_eq!(task.attempts, 1, "task {id} ran exactly once");
        }
        for instance in instances {
            instance.close().await;
        }
    })
    .await;
}

#[tokio::test]
async fn queue_stats_count_waiting_and_running_tasks_and_the_oldest_that_may_run() {
    each_backend(|store| async move {
        let empty = store.queue_stats(at(0)).await.unwrap();
        assert_eq!((empty.queued, empty.running, empty.oldest_ready), (0, 0, None), "an empty queue");

        let early = store.enqueue_task(&new_task("cad.render", at(2), None, at(1))).await.unwrap();
        store.enqueue_task(&new_task("cad.render", at(5), None, at(1))).await.unwrap();
        // A retry waiting for its time is queued but not late.
        store.enqueue_task(&new_task("poster", at(500), None, at(1))).await.unwrap();
        let cancelled = store.enqueue_task(&new_task("poster", at(1), None, at(1))).await.unwrap();
        store.cancel_task(cancelled.id, at(1)).await.unwrap();

        let stats = store.queue_stats(at(10)).await.unwrap();
        assert_eq!((stats.queued, stats.running), (3, 0), "cancelled tasks are not in the queue: {stats:?}");
        assert_eq!(stats.oldest_ready, Some(at(2)), "the earliest run_after among tasks that may run now");

        let claimed = store.claim_task(&kinds(&["cad.render"]), "L1", at(10), at(40)).await.unwrap().unwrap();
        assert_eq!(claimed.id, early.id, "the oldest is claimed first");
        let stats = store.queue_stats(at(10)).await.unwrap();
        assert_eq!((stats.queued, stats.running), (2, 1), "a claimed task runs: {stats:?}");
        assert_eq!(stats.oldest_ready, Some(at(5)));
        let stats = store.queue_stats(at(3)).await.unwrap();
        assert_eq!(stats.oldest_ready, None, "before their run_after no task may run");
    })
    .await;
}
