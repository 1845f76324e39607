//! The containerd API messages the shield uses, declared by hand from containerd's
//! `api/services/{namespaces,containers}/v1/*.proto` (the same field numbers in containerd
//! 1.6, 1.7 and 2.x): no code generation at build time.

use std::collections::HashMap;

/// `google.protobuf.Any`. containerd's type URLs have no `type.googleapis.com/` prefix.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Any {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `containerd.services.namespaces.v1.Namespace`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Namespace {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(map = "string, string", tag = "2")]
    pub labels: HashMap<String, String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListNamespacesRequest {
    #[prost(string, tag = "1")]
    pub filter: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListNamespacesResponse {
    #[prost(message, repeated, tag = "1")]
    pub namespaces: Vec<Namespace>,
}

/// `containerd.services.containers.v1.Container.Runtime`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Runtime {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub options: Option<Any>,
}

/// `containerd.services.containers.v1.Container` (the fields the shield reads).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Container {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(map = "string, string", tag = "2")]
    pub labels: HashMap<String, String>,
    #[prost(string, tag = "3")]
    pub image: String,
    #[prost(message, optional, tag = "4")]
    pub runtime: Option<Runtime>,
    /// The OCI runtime spec, as JSON (`types.containerd.io/opencontainers/runtime-spec/1/Spec`).
    #[prost(message, optional, tag = "5")]
    pub spec: Option<Any>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetContainerRequest {
    #[prost(string, tag = "1")]
    pub id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetContainerResponse {
    #[prost(message, optional, tag = "1")]
    pub container: Option<Container>,
}

/// `containerd.types.Descriptor` (the fields the shield reads).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Descriptor {
    #[prost(string, tag = "1")]
    pub media_type: String,
    #[prost(string, tag = "2")]
    pub digest: String,
    #[prost(int64, tag = "3")]
    pub size: i64,
}

/// `containerd.services.images.v1.Image` (the fields the shield reads).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Image {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(map = "string, string", tag = "2")]
    pub labels: HashMap<String, String>,
    #[prost(message, optional, tag = "3")]
    pub target: Option<Descriptor>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListImagesRequest {
    #[prost(string, repeated, tag = "1")]
    pub filters: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListImagesResponse {
    #[prost(message, repeated, tag = "1")]
    pub images: Vec<Image>,
}

pub const LIST_IMAGES: &str = "/containerd.services.images.v1.Images/List";
pub const LIST_NAMESPACES: &str = "/containerd.services.namespaces.v1.Namespaces/List";
pub const GET_CONTAINER: &str = "/containerd.services.containers.v1.Containers/Get";
/// The request header that names the containerd namespace of a call.
pub const NAMESPACE_HEADER: &str = "containerd-namespace";
