/* A Kafka cluster for tests: librdkafka's mock cluster (rdkafka_mock.h),
 * which speaks the real Kafka protocol on local ports, so simrun's
 * producer and Debian's kcat talk to it as to a broker.  No Kafka broker is
 * packaged for Debian 12; this is the closest real implementation.
 *
 *   kafka_mock [--brokers N] [--topic NAME:PARTITIONS]...
 *
 * Creates the topics named (others are created when first used), prints
 * the bootstrap list (host:port,...) on standard output and serves until
 * SIGTERM or SIGINT. */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int
main(int argc, char **argv)
{
    static const struct option opts[] = { { "brokers", required_argument, NULL, 'b' },
                                          { "topic", required_argument, NULL, 't' },
                                          { NULL, 0, NULL, 0 } };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_t *rk;
    char why[512];
    char *topics[64];
    int ntopics = 0, parts[64], brokers = 1, c, sig;
    int64_t v;
    sigset_t set;

    while ((c = getopt_long(argc, argv, "b:t:", opts, NULL)) != -1) {
        char *colon;

        if (c == 'b' && sr_parse_i64(optarg, 1, 9, &v)) {
            brokers = (int) v;
        } else if (c == 't' && ntopics < 64 && (colon = strrchr(optarg, ':')) &&
                   sr_parse_i64(colon + 1, 1, 64, &v)) {
            *colon = '\0';
            topics[ntopics] = optarg;
            parts[ntopics++] = (int) v;
        } else {
            fprintf(stderr, "usage: kafka_mock [--brokers N] [--topic NAME:PARTITIONS]...\n");
            return 2;
        }
    }
    /* The signals are waited for below; librdkafka's threads must not
     * take them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rd_kafka_conf_set(conf, "log_level", "3", why, sizeof why) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_mock: %s\n", why);
        return 1;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", why);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot start a mock cluster\n");
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topics[i], parts[i], 1);

        if (e) {
            fprintf(stderr, "kafka_mock: topic '%s': %s\n", topics[i], rd_kafka_err2str(e));
            return 1;
        }
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    sigwait(&set, &sig);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
