package io.haraft.vip;

import io.haraft.FencingToken;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Fencing (STONITH, "shoot the other node in the head"): makes sure another host that still
 * answers for the VIP stops doing so, for example by switching its power off through a smart PDU
 * or an IPMI call, before this host takes the VIP over.
 *
 * <p><b>When it is called.</b> Only during a takeover with the duplicate-address probe on
 * ({@link VipConfig#duplicateProbe()}), and only when another host answered the probe for the VIP.
 * It is called on the thread that delivers {@code elected} (the node's listener thread), at most
 * once per takeover.
 *
 * <p><b>Contract for implementations.</b>
 * <ul>
 *   <li>Return normally only once the other host can no longer answer for the VIP. Throw
 *       {@link FenceException} otherwise: the takeover is then abandoned, logged and reported by
 *       {@link VipHolder#status()}.</li>
 *   <li>It may block, but {@link VipHolder} waits at most {@link VipConfig#fenceTimeout()} and then
 *       interrupts it and counts the fence as failed. Prefer your own shorter timeout.</li>
 *   <li>It must be safe to call again for the same host (a later leadership may fence again).</li>
 * </ul>
 *
 * <pre>{@code
 * Fencer pdu = request -> {
 *     if (!myPdu.powerOff(outletOf(request.conflictingMac().orElseThrow()))) {
 *         throw new Fencer.FenceException("PDU refused to switch the outlet off");
 *     }
 * };
 * }</pre>
 *
 * <p>{@link CommandFencer} runs an external command.
 */
@FunctionalInterface
public interface Fencer {

    /**
     * Fences the host that answered for the VIP.
     *
     * @param request what to fence and for which leadership
     * @throws FenceException if the host could not be fenced; no takeover happens then
     * @throws InterruptedException if interrupted (counted as a failed fence)
     */
    void fence(FenceRequest request) throws FenceException, InterruptedException;

    /**
     * What keeps this fencer from working on this host, each entry one message that says what to
     * fix (a missing program, a missing credential file); empty if nothing is known to be wrong.
     * {@link VipHolder#start()} fails and {@link VipHolder#check()} reports when this is not
     * empty, so that a fencer that cannot work is found at start, not at failover time.
     *
     * <p>Must not fence, block for long or change anything. The default reports nothing.
     *
     * @return the problems found, possibly none
     */
    default List<String> setupProblems() {
        return List.of();
    }

    /**
     * What a {@link Fencer} is asked to fence.
     *
     * @param vip            the virtual IP another host still answers for
     * @param interfaceName  the local interface on which it answered
     * @param conflictingMac the MAC address that answered the probe, if it could be read
     *                       (lower-case, colon-separated)
     * @param token          the fencing token of the leadership that wants to take over
     */
    record FenceRequest(VipAddress vip, String interfaceName, Optional<String> conflictingMac, FencingToken token) {

        /** Checks for nulls. */
        public FenceRequest {
            Objects.requireNonNull(vip, "vip");
            Objects.requireNonNull(interfaceName, "interfaceName");
            Objects.requireNonNull(conflictingMac, "conflictingMac");
            Objects.requireNonNull(token, "token");
        }
    }

    /** The other host could not be fenced; the takeover is abandoned. Not retried automatically. */
    final class FenceException extends Exception {

        /** Creates the exception with a message that says what failed. */
        public FenceException(String message) {
            super(message);
        }

        /** Creates the exception with a message and a cause. */
        public FenceException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
