//! `harbor card`: the agent's public card, or with `--extended` its extended card.

use clap::Args;
use harbor_a2a::GetExtendedAgentCardRequest;
use harbor_distributed::RemoteTransport;

use super::args::Common;
use super::exit::Outcome;
use super::session::Session;
use super::{output, render};

/// Options of `harbor card`.
#[derive(Debug, Args)]
pub(crate) struct CardArgs {
    #[command(flatten)]
    common: Common,
    /// Fetch the extended card (GetExtendedAgentCard) instead of the public one.
    #[arg(long)]
    extended: bool,
}

/// `harbor card`.
pub(crate) async fn run(args: CardArgs) -> Outcome {
    let session = Session::open(&args.common)?;
    let outcome = async {
        let resolved = session
            .call(session.transport.agent_card(&session.peer))
            .await?;
        let card = if args.extended {
            let req = GetExtendedAgentCardRequest::default();
            session
                .call(
                    session
                        .transport
                        .get_extended_agent_card(&session.peer, &session.ctx, req),
                )
                .await?
        } else {
            resolved.card().clone()
        };
        if session.json {
            output::document(&card)
        } else {
            output::text(&render::card(&card, Some(resolved.endpoint())))
        }
    }
    .await;
    session.close().await;
    outcome
}
