//! placeholder: replaced by the real daemon in the next step.
use std::sync::Arc;
/// placeholder
pub fn run(_config: Arc<crate::config::Config>) -> anyhow::Result<()> {
    anyhow::bail!("serve is not built yet")
}
