//! Images made ready on the engine a bottle runs on: there already, pulled
//! by that engine, or copied from the default engine (`docker save | docker
//! load` through the API, streamed), so an engine that cannot reach the
//! registry, or would build the agent image again from scratch, gets the
//! very image the default one has.

use futures_util::StreamExt as _;

use super::engine::Engine;
use super::image::{
    AgentImageSource, BuildProgress, agent_dockerfile, ensure_agent_image, image_exists,
};

/// How often a copy says how far it got.
const COPY_REPORT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Another engine an image can be copied from, and its name.
#[derive(Debug, Clone, Copy)]
pub struct CopySource<'a> {
    pub name: &'a str,
    pub engine: &'a Engine,
}

/// Both images on `engine` (called `engine_name`): the agent image copied
/// from `from` when it has the same one, else built; the sidecar image as
/// [`sidecar_image_ready`]. Returns the agent image's tag.
pub async fn images_ready(
    engine: &Engine,
    engine_name: &str,
    (agent, sidecar): (&AgentImageSource, &str),
    from: Option<CopySource<'_>>,
    on_build: &mut (dyn FnMut(&BuildProgress) + Send),
) -> Result<String, String> {
    let tag = agent
        .image_tag(agent_dockerfile())
        .map_err(|e| e.to_string())?;
    let mut say = |line: String| on_build(&BuildProgress::Status(line));
    copied_from(engine, &tag, from, &mut say).await?;
    sidecar_image_ready(engine, engine_name, sidecar, from, &mut say).await?;
    ensure_agent_image(engine, agent, on_build)
        .await
        .map_err(|e| e.to_string())
}

/// The sidecar image on `engine` (called `engine_name`): pulled if it is
/// missing, else copied from `from`; what happens goes to `say`. The error
/// says why and how to fix it.
pub async fn sidecar_image_ready(
    engine: &Engine,
    engine_name: &str,
    image: &str,
    from: Option<CopySource<'_>>,
    say: &mut (dyn FnMut(String) + Send),
) -> Result<(), String> {
    if exists(engine, image).await? {
        return Ok(());
    }
    say(format!("pulling {image}"));
    let pulled = pull(engine, image, say).await;
    let Err(why) = pulled else {
        return Ok(());
    };
    if copied_from(engine, image, from, say).await? {
        return Ok(());
    }
    let on = context_flag(engine_name);
    Err(format!(
        "the sidecar image {image} is not on engine {engine_name} and it could not pull it \
         ({why}); pull it where the registry is reachable (`docker{on} pull {image}`), or copy \
         it there (`docker save {image} | docker{on} load`)"
    ))
}

/// Copies `image` to `engine` when it is missing there and `from` has it;
/// `Ok(false)` when it was not copied (no source, or the source lacks it).
pub async fn copied_from(
    engine: &Engine,
    image: &str,
    from: Option<CopySource<'_>>,
    say: &mut (dyn FnMut(String) + Send),
) -> Result<bool, String> {
    let Some(from) = from else {
        return Ok(false);
    };
    if exists(engine, image).await? {
        return Ok(true);
    }
    if !exists(from.engine, image).await? {
        return Ok(false);
    }
    say(format!("copying {image} from engine {}", from.name));
    copy(from.engine, engine, image, &mut |bytes| {
        say(format!(
            "copying {image} from engine {}: {} MB",
            from.name,
            bytes / 1_000_000
        ));
    })
    .await?;
    Ok(true)
}

/// `docker{on}`: the flag that reaches the engine called `name` with the
/// docker CLI (nothing for the default one).
fn context_flag(name: &str) -> String {
    if name == crate::settings::DEFAULT_ENGINE {
        String::new()
    } else {
        format!(" --context {name}")
    }
}

async fn exists(engine: &Engine, image: &str) -> Result<bool, String> {
    image_exists(engine, image).await.map_err(|e| e.to_string())
}

/// Pulls `image` on `engine`, saying each layer's status as it changes.
async fn pull(
    engine: &Engine,
    image: &str,
    say: &mut (dyn FnMut(String) + Send),
) -> Result<(), String> {
    let options = bollard::query_parameters::CreateImageOptionsBuilder::default()
        .from_image(image)
        .build();
    let mut events = engine.docker.create_image(Some(options), None, None);
    let mut last = String::new();
    while let Some(event) = events.next().await {
        let info = event.map_err(|e| e.to_string())?;
        let line = [info.id, info.status]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !line.is_empty() && line != last {
            say(format!("pulling {image}: {line}"));
            last = line;
        }
    }
    Ok(())
}

/// Streams `image` out of `from` and into `to`, reporting the bytes moved.
pub async fn copy(
    from: &Engine,
    to: &Engine,
    image: &str,
    on_bytes: &mut (dyn FnMut(u64) + Send),
) -> Result<(), String> {
    let moved = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = std::sync::Arc::clone(&moved);
    let archive = from.docker.export_image(image).map(move |chunk| {
        if let Ok(bytes) = &chunk {
            counter.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        chunk
    });
    let options = bollard::query_parameters::ImportImageOptionsBuilder::default()
        .quiet(true)
        .build();
    let mut events = to.docker.import_image_stream(options, archive, None);
    let mut report = tokio::time::interval(COPY_REPORT_EVERY);
    let mut said = 0;
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("copying {image}: {e}")),
                None => break,
            },
            _ = report.tick() => {
                let now = moved.load(std::sync::atomic::Ordering::Relaxed);
                if now != said {
                    on_bytes(now);
                    said = now;
                }
            }
        }
    }
    if exists(to, image).await? {
        Ok(())
    } else {
        Err(format!(
            "copying {image}: the engine loaded the archive but has no {image}"
        ))
    }
}
