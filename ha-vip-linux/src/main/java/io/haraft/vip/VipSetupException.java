package io.haraft.vip;

/**
 * {@link VipHolder#start()} found that this host cannot manage the VIP: a program is missing, the
 * interface does not exist, or the process lacks a capability. The message says what to install
 * or grant. Not retry-safe without fixing the host; nothing was changed except the start-up
 * cleanup described on {@link VipHolder#start()}.
 */
public final class VipSetupException extends RuntimeException {

    /** Creates the exception with a message that says what to install or grant. */
    public VipSetupException(String message) {
        super(message);
    }
}
