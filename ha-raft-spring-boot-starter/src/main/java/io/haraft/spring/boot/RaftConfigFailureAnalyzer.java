package io.haraft.spring.boot;

import io.haraft.RaftConfigException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Reports an HA-Raft configuration error that stopped the application from starting as what is
 * wrong and what to do, instead of a stack trace: Spring Boot prints the
 * {@link RaftConfigException#problem()} as the description and the {@link RaftConfigException#fix()}
 * as the action. Errors in {@code haraft.*} properties name the property.
 */
public class RaftConfigFailureAnalyzer extends AbstractFailureAnalyzer<RaftConfigException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, RaftConfigException cause) {
        return new FailureAnalysis("The HA-Raft node is not configured correctly: " + cause.problem(),
                cause.fix(), cause);
    }
}
