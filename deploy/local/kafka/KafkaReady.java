// Readiness probe / tiny admin tool for the local Kafka broker started by
// deploy/local/backends.sh. Compiled once into <cache>/kafka/classes against the
// resolved Kafka jars (no extra dependencies; the kafka-tools artifact with
// TopicCommand is deliberately not pulled in).
//
//   java -cp '<cache>/kafka/classes:<cache>/kafka/lib/*' KafkaReady <bootstrap> <timeoutSeconds> [topic[:partitions] ...]
//
// Retries a real admin round trip (describeCluster + listTopics) until it succeeds
// or the timeout expires. Any further arguments are topics to create (idempotent:
// an existing topic is not an error); partitions default to the broker's num.partitions.
// Exit status: 0 ready (and topics created), 1 not ready / failed, 2 usage.
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

public final class KafkaReady {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: KafkaReady <bootstrap> <timeoutSeconds> [topic[:partitions] ...]");
            System.exit(2);
        }
        String bootstrap = args[0];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));

        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "griddesk-kafka-ready");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "200");

        String lastError = "no attempt made";
        try (Admin admin = Admin.create(p)) {
            while (System.nanoTime() < deadline) {
                try {
                    int nodes = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
                    String controller = String.valueOf(admin.describeCluster().controller().get(5, TimeUnit.SECONDS));
                    Set<String> topics = admin.listTopics().names().get(5, TimeUnit.SECONDS);
                    if (nodes < 1) {
                        throw new IllegalStateException("cluster reports no nodes");
                    }
                    System.out.println("kafka ready: bootstrap=" + bootstrap + " nodes=" + nodes
                            + " controller=" + controller + " topics=" + topics.size());
                    createTopics(admin, args);
                    return;
                } catch (TopicCreationFailed e) {
                    System.err.println("topic creation failed: " + e.getMessage());
                    System.exit(1);
                } catch (Exception e) {
                    Throwable c = (e instanceof ExecutionException && e.getCause() != null) ? e.getCause() : e;
                    lastError = c.getClass().getSimpleName() + ": " + c.getMessage();
                    Thread.sleep(250);
                }
            }
        }
        System.err.println("kafka not ready at " + bootstrap + ": " + lastError);
        System.exit(1);
    }

    private static final class TopicCreationFailed extends Exception {
        TopicCreationFailed(String message) {
            super(message);
        }
    }

    private static void createTopics(Admin admin, String[] args) throws TopicCreationFailed {
        List<NewTopic> wanted = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            String[] parts = args[i].split(":", 2);
            Optional<Integer> partitions;
            try {
                partitions = parts.length == 2 ? Optional.of(Integer.parseInt(parts[1])) : Optional.empty();
            } catch (NumberFormatException e) {
                throw new TopicCreationFailed("bad partition count in " + args[i]);
            }
            wanted.add(new NewTopic(parts[0], partitions, Optional.empty()));
        }
        if (wanted.isEmpty()) {
            return;
        }
        for (var entry : admin.createTopics(wanted).values().entrySet()) {
            try {
                entry.getValue().get(10, TimeUnit.SECONDS);
                System.out.println("created topic " + entry.getKey());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicExistsException) {
                    System.out.println("topic exists " + entry.getKey());
                } else {
                    throw new TopicCreationFailed(entry.getKey() + ": " + e.getCause());
                }
            } catch (Exception e) {
                throw new TopicCreationFailed(entry.getKey() + ": " + e);
            }
        }
    }
}
