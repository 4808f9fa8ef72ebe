/// The one source of the version: the binary prints it, and scripts read it from here.
public enum TollgateVersion { public static let string = "0.1.0" }
