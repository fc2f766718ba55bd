package io.kubeferry.proxy.state;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reports skipped objects and dropped parts once per change: the last problems per object are kept, so an
 * informer resync of an unchanged object says nothing again, while a new problem (or the same one after
 * the object was fixed and broken again) is reported anew. Each report is one WARN line, one count in
 * {@code kubeferry_objects_skipped_total{kind,reason}} and, for objects that name a Service, one
 * {@link ObjectWarnings} call (a Warning Event in {@code run} mode). Used on the state's one context.
 */
final class SkippedObjects {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterState.class);
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");
    /** Event messages are cut here (the API server's limit is 1 KiB; the log line keeps everything). */
    private static final int EVENT_MESSAGE_MAX = 1000;

    private final MeterRegistry metrics;
    private final ObjectWarnings warnings;
    /** Last problems by object; an object without problems has no entry. */
    private final Map<Key, Set<ObjectProblem>> last = new HashMap<>();

    private record Key(String kind, String namespace, String name) {

        /** What {@link #current()} sorts by. */
        String text() {
            return kind + " " + namespace + "/" + name;
        }
    }

    SkippedObjects(MeterRegistry metrics, ObjectWarnings warnings) {
        this.metrics = metrics;
        this.warnings = warnings;
    }

    /**
     * The object's problems now (empty when it is fine).
     *
     * @param service the Service to warn on (the object itself or the slice's owner), or null for none
     */
    void update(String kind, String namespace, String name, List<ObjectProblem> problems, String service) {
        Key key = new Key(kind, namespace, name);
        if (problems.isEmpty()) {
            if (last.remove(key) != null) {
                LOG.info("{} {}/{} is valid again", kind, display(namespace), display(name));
            }
            return;
        }
        Set<ObjectProblem> now = new LinkedHashSet<>(problems);
        Set<ObjectProblem> before = last.put(key, now);
        for (ObjectProblem problem : now) {
            if (before == null || !before.contains(problem)) {
                report(new SkippedObject(kind, namespace, name, problem), service);
            }
        }
    }

    /** The object was deleted: forget it, so a new object of that name is reported afresh. */
    void forget(String kind, String namespace, String name) {
        last.remove(new Key(kind, namespace, name));
    }

    /** Everything currently skipped or dropped, sorted by kind, namespace and name. */
    List<SkippedObject> current() {
        List<SkippedObject> out = new ArrayList<>();
        last.entrySet().stream().sorted(Map.Entry.comparingByKey(Comparator.comparing(Key::text))).forEach(e -> {
            Key k = e.getKey();
            e.getValue().forEach(p -> out.add(new SkippedObject(k.kind(), k.namespace(), k.name(), p)));
        });
        return out;
    }

    private void report(SkippedObject skipped, String service) {
        ObjectProblem problem = skipped.problem();
        Counter.builder("kubeferry.objects.skipped")
                .description("Objects (or parts of them) kube-ferry skipped as invalid or unsupported, by kind and reason")
                .tag("kind", skipped.kind()).tag("reason", problem.reason())
                .register(metrics).increment();
        LOG.warn(skipped.describe());
        boolean eventable = service != null && ObjectValidation.dns1123Label(skipped.namespace()).isEmpty()
                && ObjectValidation.dns1035Label(service).isEmpty();
        if (eventable) {
            String what = skipped.kind().equals("Service") ? "this Service" : skipped.kind() + " " + display(skipped.name());
            String message = (problem.whole() ? "kube-ferry does not program " + what + ": " : "kube-ferry dropped part of " + what + ": ")
                    + problem.message() + " (" + problem.reason() + ")";
            warnings.warning(skipped.namespace(), service, problem.whole() ? "Skipped" : "Dropped",
                    message.length() > EVENT_MESSAGE_MAX ? message.substring(0, EVENT_MESSAGE_MAX) : message);
        }
    }

    /** A name as it is when plain, else quoted and escaped (it may hold newlines or quotes). */
    static String display(String name) {
        return name != null && PLAIN.matcher(name).matches() ? name : ObjectValidation.quote(name);
    }
}
