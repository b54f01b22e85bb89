//! `harbor card`: the agent's public card, or with `--extended` its extended card.

use clap::Args;
use harbor_a2a::GetExtendedAgentCardRequest;
use harbor_distributed::RemoteTransport;

use super::args::Common;
use harbor_a2a::AgentCard;
use harbor_client::{SignaturePolicy, TrustedKeys};

use super::exit::{Failure, Outcome};
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
    /// Verify the card's signatures with the trusted keys (--card-key, --card-jwks) and
    /// say which one verified; a signature that does not verify fails (exit 4).
    #[arg(long)]
    verify: bool,
    /// A trusted public key (PEM) or JWKS document (file) for --verify; repeatable.
    #[arg(long, value_name = "FILE", requires = "verify")]
    card_key: Vec<std::path::PathBuf>,
    /// A JWKS URL of trusted keys for --verify (not the card's own `jku`).
    #[arg(long, value_name = "URL", requires = "verify")]
    card_jwks: Option<String>,
    /// With --verify, an unsigned card fails too.
    #[arg(long, requires = "verify")]
    require_signature: bool,
}

/// The trusted keys of `--verify`.
async fn trusted_keys(args: &CardArgs, session: &Session) -> Result<TrustedKeys, Failure> {
    let mut texts = Vec::new();
    for path in &args.card_key {
        texts.push(std::fs::read_to_string(path).map_err(|e| {
            Failure::Usage(format!("cannot read the card key {}: {e}", path.display()))
        })?);
    }
    if let Some(url) = &args.card_jwks {
        let http = reqwest::Client::new();
        let config = session.transport.config();
        texts.push(
            session
                .call(harbor_client::card::fetch_jwks(&http, config, url))
                .await?,
        );
    }
    if texts.is_empty() {
        return Err(Failure::Usage(
            "--verify needs --card-key or --card-jwks".into(),
        ));
    }
    TrustedKeys::from_texts(texts.iter().map(String::as_str))
        .map_err(|e| Failure::Usage(e.to_string()))
}

/// Checks `card`'s signatures as `args` ask and says what was found.
async fn verify(args: &CardArgs, session: &Session, card: &AgentCard) -> Result<String, Failure> {
    let keys = trusted_keys(args, session).await?;
    let policy = if args.require_signature {
        SignaturePolicy::Require
    } else {
        SignaturePolicy::VerifyIfSigned
    };
    match harbor_client::card::apply_signature_policy(policy, card, &keys) {
        Ok(Some(verified)) => Ok(format!(
            "signature   verified ({}, key {})",
            verified.algorithm,
            verified.key_id.as_deref().unwrap_or("without id")
        )),
        Ok(None) => Ok("signature   none: the card is not signed".to_owned()),
        Err(error) => Err(Failure::Call(
            harbor_client::ClientError::InvalidCard {
                url: session.peer.url().to_owned(),
                reason: error.to_string(),
            }
            .into_error(),
        )),
    }
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
        let verdict = if args.verify {
            Some(verify(&args, &session, &card).await?)
        } else {
            None
        };
        if session.json {
            output::document(&card)?;
        } else {
            output::text(&render::card(&card, Some(resolved.endpoint())))?;
        }
        match verdict {
            // With --json the verdict goes to stderr, so stdout stays one JSON document.
            Some(line) if session.json => {
                eprintln!("{line}");
                Ok(())
            }
            Some(line) => output::text(&line),
            None => Ok(()),
        }
    }
    .await;
    session.close().await;
    outcome
}
