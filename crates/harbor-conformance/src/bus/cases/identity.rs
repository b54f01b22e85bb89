//! Identity is mandatory, scopes isolate tenants, invalid input is refused before storage.

use bytes::Bytes;
use harbor_distributed::{Error, IdentityScope, StartPosition, SubscribeOptions};

use crate::bus::BusFactory;
use crate::bus::support::{Collector, Ctx, assert_ids, event_id};

/// Seed: publish and subscribe without a complete identity fail with `IdentityRequired`,
/// and nothing of the refused envelopes is stored (an admin subscriber never sees them).
pub async fn identity_is_mandatory(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("identity");
    let admin = SubscribeOptions::new([edge.clone()], ctx.group("admin"), IdentityScope::Admin);
    let watcher = Collector::spawn("admin subscriber", ctx.subscribe(admin).await);
    type Strip = fn(&mut harbor_distributed::Identity);
    let cases: [(&str, Strip); 4] = [
        ("tenant", |i| i.tenant = "".into()),
        ("user", |i| i.user = "".into()),
        ("session", |i| i.session = "".into()),
        ("run", |i| i.run = Some("".into())),
    ];
    for (n, (missing, strip)) in cases.into_iter().enumerate() {
        let mut env = ctx.envelope(&edge, 100 + n);
        strip(&mut env.identity);
        match ctx.bus.publish(env).await {
            Err(Error::IdentityRequired { missing: m }) => {
                assert_eq!(m, missing, "IdentityRequired names the wrong part")
            }
            other => panic!("publish without {missing}: expected IdentityRequired, got {other:?}"),
        }
    }
    let unscoped = SubscribeOptions::new(
        [edge.clone()],
        ctx.group("g"),
        IdentityScope::Tenant(String::new()),
    );
    match ctx.bus.subscribe(unscoped).await {
        Err(Error::IdentityRequired { .. }) => {}
        other => {
            panic!("subscribe with an empty tenant scope: expected IdentityRequired, got {other:?}")
        }
    }
    ctx.publish(ctx.envelope(&edge, 1)).await;
    watcher.wait_distinct(1).await;
    ctx.close().await;
    assert_ids("admin subscriber", &watcher.finish().await, [event_id(1)]);
}

/// A tenant-scoped subscriber never sees another tenant's envelope; an admin sees all.
pub async fn identity_scope_isolation(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("scoped");
    let scoped = |tenant: &str, group: &str| {
        SubscribeOptions::new(
            [edge.clone()],
            ctx.group(group),
            IdentityScope::Tenant(ctx.tenant(tenant)),
        )
    };
    let a = Collector::spawn("tenant a", ctx.subscribe(scoped("a", "ga")).await);
    let b = Collector::spawn("tenant b", ctx.subscribe(scoped("b", "gb")).await);
    // Same group name in another tenant: a different group, not a competitor.
    let b_same_name =
        Collector::spawn("tenant b, group ga", ctx.subscribe(scoped("b", "ga")).await);
    let admin = SubscribeOptions::new([edge.clone()], ctx.group("admin"), IdentityScope::Admin);
    let admin = Collector::spawn("admin", ctx.subscribe(admin).await);
    for i in 0..5 {
        ctx.publish(ctx.envelope(&edge, i)).await;
        let mut env = ctx.envelope(&edge, 100 + i);
        env.identity = ctx.identity("b");
        ctx.publish(env).await;
    }
    admin.wait_distinct(10).await;
    a.wait_distinct(5).await;
    b.wait_distinct(5).await;
    b_same_name.wait_distinct(5).await;
    ctx.close().await;
    assert_ids("tenant a", &a.finish().await, (0..5).map(event_id));
    assert_ids("tenant b", &b.finish().await, (100..105).map(event_id));
    assert_ids(
        "tenant b, group ga",
        &b_same_name.finish().await,
        (100..105).map(event_id),
    );
    let all = (0..5).chain(100..105).map(event_id);
    assert_ids("admin", &admin.finish().await, all);
}

/// A malformed edge, an empty event id and an oversized payload are refused with their
/// own errors, and nothing of them is stored.
pub async fn invalid_envelopes_refused(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("invalid");
    let watcher = Collector::spawn(
        "subscriber",
        ctx.subscribe(ctx.options(&[&edge], "g")).await,
    );
    let wildcard = ctx.envelope(&format!("{}.*", ctx.ns.prefix()), 100);
    assert!(
        matches!(ctx.bus.publish(wildcard).await, Err(Error::InvalidEdge(_))),
        "an edge with a wildcard must be refused with InvalidEdge"
    );
    let mut no_id = ctx.envelope(&edge, 101);
    no_id.event_id.clear();
    assert!(
        matches!(ctx.bus.publish(no_id).await, Err(Error::InvalidEnvelope(_))),
        "an empty event id must be refused with InvalidEnvelope"
    );
    let max = ctx.caps.max_payload;
    let mut big = ctx.envelope(&edge, 102);
    big.payload = Bytes::from(vec![7u8; max + 1]);
    match ctx.bus.publish(big).await {
        Err(Error::PayloadTooLarge { size, max: m }) => {
            assert_eq!(
                (size, m),
                (max + 1, max),
                "PayloadTooLarge reports wrong sizes"
            )
        }
        other => {
            panic!("a payload over max_payload ({max}): expected PayloadTooLarge, got {other:?}")
        }
    }
    let mut large = ctx.envelope(&edge, 1);
    large.payload = Bytes::from(vec![7u8; max.min(256 * 1024)]);
    ctx.publish(large).await;
    watcher.wait_distinct(1).await;
    ctx.close().await;
    assert_ids("subscriber", &watcher.finish().await, [event_id(1)]);
}

/// Subscribe options every driver must refuse, each with its error kind.
pub async fn invalid_subscribe_options_refused(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("opts");
    let good = ctx.options(&[&edge], "g");
    let bad: Vec<(&str, SubscribeOptions)> = vec![
        (
            "no edges",
            SubscribeOptions {
                edges: vec![],
                ..good.clone()
            },
        ),
        (
            "an empty edge segment",
            SubscribeOptions {
                edges: vec![format!("{edge}..x")],
                ..good.clone()
            },
        ),
        (
            "'>' not last",
            SubscribeOptions {
                edges: vec![format!("{}.>.x", ctx.ns.prefix())],
                ..good.clone()
            },
        ),
        (
            "a group with a dot",
            SubscribeOptions {
                group: "a.b".into(),
                ..good.clone()
            },
        ),
        (
            "an empty group",
            SubscribeOptions {
                group: String::new(),
                ..good.clone()
            },
        ),
        ("max_in_flight 0", good.clone().max_in_flight(0)),
        ("max_attempts 0", good.clone().max_attempts(0)),
        (
            "a zero visibility timeout",
            good.clone().visibility_timeout(std::time::Duration::ZERO),
        ),
    ];
    for (what, options) in bad {
        match ctx.bus.subscribe(options).await {
            Err(Error::InvalidArgument(_) | Error::InvalidEdge(_)) => {}
            Err(other) => panic!(
                "subscribe with {what}: expected InvalidArgument or InvalidEdge, got {other}"
            ),
            Ok(_) => panic!("subscribe with {what} was accepted"),
        }
    }
    let no_tenant = SubscribeOptions {
        scope: IdentityScope::Tenant(String::new()),
        ..good.clone()
    };
    assert!(
        matches!(
            ctx.bus.subscribe(no_tenant).await,
            Err(Error::IdentityRequired { .. })
        ),
        "subscribe with an empty tenant must fail with IdentityRequired"
    );
    if !ctx.caps.replay {
        let earliest = ctx
            .options(&[&edge], "replay")
            .start(StartPosition::Earliest);
        assert!(
            ctx.bus.subscribe(earliest).await.is_err(),
            "a driver without replay accepted a new group at StartPosition::Earliest"
        );
    }
    let _ok = ctx.subscribe(good).await;
    ctx.close().await;
}
