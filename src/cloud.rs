//! National clouds as data: where to sign in, where Graph and Azure Resource
//! Manager live, and the resource identifiers tokens are asked for.
// https://learn.microsoft.com/en-us/graph/deployments
// https://learn.microsoft.com/en-us/entra/identity-platform/authentication-national-cloud

use serde::{Deserialize, Serialize};

/// A Microsoft cloud the wizard can talk to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cloud", rename_all = "camelCase")]
pub enum Cloud {
    Global,
    /// US Government L4 (GCC High).
    UsGovernment,
    /// US Government L5 (DoD).
    UsGovernmentDod,
    /// Microsoft Azure operated by 21Vianet.
    China,
    /// The project's emulator at `base_url` (e.g. `http://127.0.0.1:8400`),
    /// which serves `/login`, `/graph` and `/arm` and accepts Global's
    /// resource identifiers.
    #[serde(rename_all = "camelCase")]
    Local {
        base_url: String,
    },
}

/// The endpoints of one cloud. URLs have no trailing slash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// `https://login.microsoftonline.com`; the authority is `{this}/{tenant}`.
    pub authority_host: String,
    /// `https://graph.microsoft.com`; calls go to `{this}/v1.0/…`.
    pub graph_base: String,
    /// `https://management.azure.com`.
    pub arm_base: String,
    /// Resource identifier in Graph token scopes (`{this}/.default`).
    pub graph_resource: String,
    /// Resource identifier in ARM token scopes.
    pub arm_resource: String,
}

fn endpoints(login: &str, graph: &str, arm: &str) -> Endpoints {
    Endpoints {
        authority_host: login.into(),
        graph_base: graph.into(),
        arm_base: arm.into(),
        graph_resource: graph.into(),
        arm_resource: arm.into(),
    }
}

impl Cloud {
    /// Every cloud but the emulator, in the order the region picker shows them.
    pub const PUBLIC: [Cloud; 4] = [
        Cloud::Global,
        Cloud::UsGovernment,
        Cloud::UsGovernmentDod,
        Cloud::China,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Cloud::Global => "Global (Azure public cloud)",
            Cloud::UsGovernment => "US Government (GCC High)",
            Cloud::UsGovernmentDod => "US Government (DoD)",
            Cloud::China => "China (21Vianet)",
            Cloud::Local { .. } => "Local emulator",
        }
    }

    pub fn endpoints(&self) -> Endpoints {
        match self {
            Cloud::Global => endpoints(
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
                "https://management.azure.com",
            ),
            Cloud::UsGovernment => endpoints(
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
                "https://management.usgovcloudapi.net",
            ),
            Cloud::UsGovernmentDod => endpoints(
                "https://login.microsoftonline.us",
                "https://dod-graph.microsoft.us",
                "https://management.usgovcloudapi.net",
            ),
            Cloud::China => endpoints(
                "https://login.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
                "https://management.chinacloudapi.cn",
            ),
            Cloud::Local { base_url } => {
                let base = base_url.trim_end_matches('/');
                let global = Cloud::Global.endpoints();
                Endpoints {
                    authority_host: format!("{base}/login"),
                    graph_base: format!("{base}/graph"),
                    arm_base: format!("{base}/arm"),
                    graph_resource: global.graph_resource,
                    arm_resource: global.arm_resource,
                }
            }
        }
    }

    /// Origins (`scheme://host[:port]`) the page must reach, for the
    /// Content-Security-Policy `connect-src` of a deployment on this cloud.
    pub fn connect_src(&self) -> Vec<String> {
        let e = self.endpoints();
        let mut hosts: Vec<String> = Vec::new();
        for url in [e.authority_host, e.graph_base, e.arm_base] {
            let origin = origin_of(&url);
            if !hosts.contains(&origin) {
                hosts.push(origin);
            }
        }
        hosts
    }
}

/// The page's Content-Security-Policy, as `index.html` carries it in a
/// `<meta http-equiv>` (so that any static host enforces it): scripts only
/// from the page itself plus WebAssembly compilation, no inline script or
/// style, and `connect-src` limited to the page (its wasm and `config.json`)
/// and the sign-in, Graph and ARM hosts of every national cloud. A local
/// emulator's origin is added only where a deployment's configuration names
/// it (`cargo xtask serve|test` do that to the built copy).
/// `frame-ancestors` is not here: browsers ignore it in a meta element, so
/// the host must send it as a header (README, "Hosting the page").
pub fn content_security_policy(local_emulator: Option<&str>) -> String {
    let mut connect = vec!["'self'".to_string()];
    for cloud in Cloud::PUBLIC {
        for origin in cloud.connect_src() {
            if !connect.contains(&origin) {
                connect.push(origin);
            }
        }
    }
    if let Some(base) = local_emulator {
        connect.push(origin_of(base));
    }
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self'; manifest-src 'self'; worker-src 'self'; connect-src {}; \
         object-src 'none'; base-uri 'none'; form-action 'none'",
        connect.join(" ")
    )
}

impl Endpoints {
    /// `{authority_host}/{tenant}`.
    pub fn authority(&self, tenant: &str) -> String {
        format!("{}/{}", self.authority_host, tenant)
    }
    pub fn authorize_url(&self, tenant: &str) -> String {
        format!("{}/oauth2/v2.0/authorize", self.authority(tenant))
    }
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/oauth2/v2.0/token", self.authority(tenant))
    }
    pub fn logout_url(&self, tenant: &str) -> String {
        format!("{}/oauth2/v2.0/logout", self.authority(tenant))
    }
    /// `https://graph.microsoft.com/.default`
    pub fn graph_default_scope(&self) -> String {
        format!("{}/.default", self.graph_resource)
    }
    /// `https://management.azure.com/.default`
    pub fn arm_default_scope(&self) -> String {
        format!("{}/.default", self.arm_resource)
    }
    /// A delegated Graph permission as a scope: `https://graph.microsoft.com/User.Read`.
    pub fn graph_scope(&self, permission: &str) -> String {
        format!("{}/{}", self.graph_resource, permission)
    }
    /// `https://management.azure.com/user_impersonation`.
    pub fn arm_user_impersonation(&self) -> String {
        format!("{}/user_impersonation", self.arm_resource)
    }
    /// `{graph_base}/v1.0`
    pub fn graph_v1(&self) -> String {
        format!("{}/v1.0", self.graph_base)
    }
}

/// `https://host[:port]` of a URL (everything before the first path slash).
fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => url[..after_scheme + i].to_string(),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_clouds_have_microsofts_hosts() {
        let gcc = Cloud::UsGovernment.endpoints();
        assert_eq!(
            gcc.graph_default_scope(),
            "https://graph.microsoft.us/.default"
        );
        assert_eq!(
            gcc.arm_default_scope(),
            "https://management.usgovcloudapi.net/.default"
        );
        let dod = Cloud::UsGovernmentDod.endpoints();
        assert_eq!(dod.graph_base, "https://dod-graph.microsoft.us");
        assert_eq!(dod.authority_host, "https://login.microsoftonline.us");
        let cn = Cloud::China.endpoints();
        assert_eq!(
            cn.token_url("contoso.partner.onmschina.cn"),
            "https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/oauth2/v2.0/token"
        );
        assert_eq!(cn.graph_resource, "https://microsoftgraph.chinacloudapi.cn");
        assert_eq!(
            Cloud::Global.endpoints().arm_default_scope(),
            "https://management.azure.com/.default"
        );
    }

    #[test]
    fn local_emulator_uses_prefixes_and_global_resources() {
        let local = Cloud::Local {
            base_url: "http://127.0.0.1:8400/".into(),
        }
        .endpoints();
        assert_eq!(local.graph_v1(), "http://127.0.0.1:8400/graph/v1.0");
        assert_eq!(local.arm_base, "http://127.0.0.1:8400/arm");
        assert_eq!(
            local.authorize_url("t"),
            "http://127.0.0.1:8400/login/t/oauth2/v2.0/authorize"
        );
        assert_eq!(
            local.graph_default_scope(),
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            local.arm_user_impersonation(),
            "https://management.azure.com/user_impersonation"
        );
    }

    #[test]
    fn connect_src_lists_each_origin_once() {
        assert_eq!(
            Cloud::UsGovernment.connect_src(),
            [
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
                "https://management.usgovcloudapi.net"
            ]
        );
        let local = Cloud::Local {
            base_url: "http://127.0.0.1:8400".into(),
        };
        assert_eq!(local.connect_src(), ["http://127.0.0.1:8400"]);
    }

    #[test]
    fn cloud_round_trips_as_json() {
        let c = Cloud::Local {
            base_url: "http://x".into(),
        };
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(j, r#"{"cloud":"local","baseUrl":"http://x"}"#);
        assert_eq!(serde_json::from_str::<Cloud>(&j).unwrap(), c);
    }
}
