/// The one source of the version: `tollgate version`, `/health` and the status API print it, and
/// scripts/validate-deploy.sh checks that every image tag in k8s/ and docker/ names it.
package enum TollgateVersion { package static let string = "0.6.0" }
