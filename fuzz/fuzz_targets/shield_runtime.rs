//! What the shield reads from container runtimes: OCI bundles (`config.json`), `runc`'s
//! arguments and `runc state` answers, the runtime socket's requests, containerd's gRPC
//! answers, and the Docker engine's inspect answers and list entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use shield::containerd::{grpc, proto};
use shield::runtime::{bundle, listener, wrapper};

fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = bundle::container_info("fuzz", &spec);
        let _ = bundle::is_sandbox(&spec);
        let _ = shield::docker::ContainerInfo::from_inspect(&spec);
        let _ = shield::docker::ContainerInfo::from_summary(&spec);
    }
    let args: Vec<std::ffi::OsString> =
        data.split(|b| *b == 0).map(|a| std::ffi::OsString::from(String::from_utf8_lossy(a).into_owned())).collect();
    let _ = wrapper::parse_start(&args);
    let _ = wrapper::parse_state(data);
    let _ = listener::parse_request(&String::from_utf8_lossy(data));
    if let Ok(answer) = grpc::decode_message::<proto::GetContainerResponse>(bytes::Bytes::copy_from_slice(data))
        && let Some(container) = answer.container
    {
        let _ = shield::containerd::container_info(&container);
    }
    if let Ok(images) = proto::ListImagesResponse::decode(data) {
        let _ = shield::containerd::references(&images.images);
    }
});
