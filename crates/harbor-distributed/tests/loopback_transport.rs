//! The loopback transport runs the whole RemoteTransport suite, plus what only an
//! in-process transport can show (synchronous drops, the close deadline, the driver).

harbor_conformance::transport_suite!(harbor_conformance::transport::LoopbackFactory);

mod loopback_only {
    use std::sync::Arc;
    use std::time::Duration;

    use futures::StreamExt;
    use harbor_a2a::{Message, Part, Role, SendMessageRequest, part::Content};
    use harbor_conformance::transport::ConformanceAgent;
    use harbor_distributed::loopback::{LoopbackDriver, LoopbackNetwork};
    use harbor_distributed::{CallContext, Error, Identity, Peer, Registry, RemoteTransport};

    fn ctx() -> CallContext {
        CallContext::new(Identity::new("acme", "ada", "s1").expect("identity"))
    }

    fn send(prefix: &str) -> SendMessageRequest {
        SendMessageRequest {
            message: Some(Message {
                message_id: format!("{prefix}-1"),
                role: Role::User.into(),
                parts: vec![Part {
                    content: Some(Content::Text("hi".to_owned())),
                    ..Part::default()
                }],
                ..Message::default()
            }),
            ..SendMessageRequest::default()
        }
    }

    fn network_with_agent(url: &str) -> (LoopbackNetwork, Peer, ConformanceAgent) {
        let network = LoopbackNetwork::new();
        let agent = ConformanceAgent::new("a");
        let peer = network
            .register(url, Arc::new(agent.clone()))
            .expect("register");
        (network, peer, agent)
    }

    #[test]
    fn registering_a_url_twice_is_an_error() {
        let (network, peer, agent) = network_with_agent("loopback://a/");
        assert_eq!(peer.url(), "loopback://a", "the trailing slash is dropped");
        let again = network.register("loopback://a", Arc::new(agent.clone()));
        assert!(
            matches!(&again, Err(Error::InvalidArgument(m)) if m.contains("already registered")),
            "{again:?}"
        );
        assert!(matches!(
            network.register("", Arc::new(agent)),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(network.peers(), [peer]);
    }

    #[tokio::test]
    async fn unknown_and_deregistered_peers_are_unknown() {
        let (network, peer, agent) = network_with_agent("loopback://a");
        let transport = network.open();
        let nobody = Peer::new("loopback://nobody");
        match transport.send_message(&nobody, &ctx(), send("x")).await {
            Err(Error::UnknownPeer { url }) => assert_eq!(url, "loopback://nobody"),
            other => panic!("expected UnknownPeer, got {other:?}"),
        }
        assert!(network.deregister(&peer));
        assert!(!network.deregister(&peer));
        assert!(matches!(
            transport.send_message(&peer, &ctx(), send("x")).await,
            Err(Error::UnknownPeer { .. })
        ));
        assert!(agent.calls().is_empty());
    }

    #[tokio::test]
    async fn dropping_a_stream_drops_the_handler_stream_at_once() {
        let (network, peer, agent) = network_with_agent("loopback://a");
        let transport = network.open();
        let mut stream = transport
            .send_streaming_message(&peer, &ctx(), send("test-resubscribe-message-id"))
            .await
            .expect("stream");
        assert!(matches!(stream.next().await, Some(Ok(_))));
        assert_eq!((transport.open_streams(), agent.open_streams()), (1, 1));
        drop(stream);
        // No waiting: the handler's stream (and the work it drives) is dropped with ours.
        assert_eq!(transport.open_streams(), 0);
        assert_eq!(agent.open_streams(), 0);
        assert_eq!(agent.active_work(), 0);
    }

    #[tokio::test]
    async fn close_is_bounded_by_its_deadline() {
        let (network, peer, _agent) = network_with_agent("loopback://a");
        let transport = network
            .open()
            .with_close_deadline(Duration::from_millis(50));
        let c = ctx();
        // A call that is in flight but never polled again cannot unwind by itself.
        let mut stuck = transport.send_message(&peer, &c, send("test-resubscribe-message-id"));
        assert!(futures::poll!(stuck.as_mut()).is_pending());
        assert_eq!(transport.open_calls(), 1);
        match transport.close().await {
            Err(Error::Timeout(d)) => assert_eq!(d, Duration::from_millis(50)),
            other => panic!("expected the close deadline to pass, got {other:?}"),
        }
        assert!(matches!(stuck.await, Err(Error::Closed)));
        assert_eq!(transport.open_calls(), 0);
        transport.close().await.expect("closing again once idle");
        assert!(transport.is_closed());
    }

    #[tokio::test]
    async fn the_driver_opens_transports_by_name_and_scheme() {
        let (network, peer, agent) = network_with_agent("loopback://a");
        let mut registry = Registry::new();
        registry
            .register_transport(Arc::new(LoopbackDriver::new(network)))
            .expect("register driver");
        let duplicate = registry.register_transport(Arc::new(LoopbackDriver::default()));
        assert!(matches!(duplicate, Err(Error::DuplicateDriver { .. })));
        for target in ["loopback", "loopback://anything"] {
            let transport = registry.open_transport(target).await.expect("open");
            transport
                .send_message(&peer, &ctx(), send("tck-complete-task"))
                .await
                .expect("send through the driver's transport");
            transport.close().await.expect("close");
        }
        assert_eq!(agent.calls().len(), 2);
    }

    #[tokio::test]
    async fn the_default_driver_uses_the_global_network() {
        let agent = ConformanceAgent::new("global");
        let url = format!("loopback://global-{}", std::process::id());
        let peer = LoopbackNetwork::global()
            .register(url, Arc::new(agent.clone()))
            .expect("register globally");
        let transport = LoopbackDriver::default().network().open();
        transport
            .send_message(&peer, &ctx(), send("tck-complete-task"))
            .await
            .expect("send on the global network");
        assert!(LoopbackNetwork::global().deregister(&peer));
        assert_eq!(agent.calls().len(), 1);
    }

    /// Records the name and fields of every span created on this thread, and which were
    /// entered.
    #[derive(Default)]
    struct SpanLog(std::sync::Mutex<Vec<String>>, std::sync::Mutex<Vec<u64>>);

    struct Fields(String);

    impl tracing::field::Visit for Fields {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!(" {}={:?}", field.name(), value));
        }
    }

    impl tracing::Subscriber for SpanLog {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            let mut fields = Fields(span.metadata().name().to_owned());
            span.record(&mut fields);
            let mut log = self.0.lock().expect("span log");
            log.push(fields.0);
            tracing::span::Id::from_u64(log.len() as u64)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, _: &tracing::Event<'_>) {}
        fn enter(&self, id: &tracing::span::Id) {
            self.1.lock().expect("enter log").push(id.into_u64());
        }
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[tokio::test]
    async fn every_call_gets_one_span_naming_peer_and_method() {
        let (network, peer, _agent) = network_with_agent("loopback://a");
        let transport = network.open();
        let log = Arc::new(SpanLog::default());
        let _default = tracing::subscriber::set_default(Arc::clone(&log));
        let task = transport
            .send_message(&peer, &ctx(), send("tck-complete-task"))
            .await
            .expect("send");
        drop(task);
        let nobody = Peer::new("loopback://nobody");
        let _ = transport
            .list_tasks(&nobody, &ctx(), Default::default())
            .await;
        let stream = transport
            .send_streaming_message(&peer, &ctx(), send("tck-stream-002"))
            .await
            .expect("stream");
        assert_eq!(stream.count().await, 2, "the task, then its completion");
        let spans: Vec<String> = log.0.lock().expect("span log").clone();
        let entered = log.1.lock().expect("enter log").clone();
        // Span ids are positions in the log, from 1.
        let calls: Vec<(&String, bool)> = (1u64..)
            .zip(&spans)
            .filter(|(_, s)| s.starts_with("a2a.call"))
            .map(|(id, s)| (s, entered.contains(&id)))
            .collect();
        assert_eq!(calls.len(), 3, "one span per call: {spans:?}");
        for ((span, was_entered), (url, method)) in calls.iter().zip([
            ("loopback://a", "SendMessage"),
            ("loopback://nobody", "ListTasks"),
            ("loopback://a", "SendStreamingMessage"),
        ]) {
            assert!(
                span.contains(&format!("peer={url}")) && span.contains(method),
                "{span} should name {url} and {method}"
            );
            assert!(was_entered, "{span}: the call must run inside its span");
        }
    }
}
