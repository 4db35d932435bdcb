package io.haraft.vip.daemon;

/**
 * An {@code ha-vipd} configuration file cannot be used. The message names the file, the line or
 * key, what is wrong and how to fix it; it is meant to be shown to the operator as it is.
 */
final class DaemonConfigException extends IllegalArgumentException {

    DaemonConfigException(String message) {
        super(message);
    }

    DaemonConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
