/* The ports simtraffic's services use, shared by the traffic agents and by
 * the faults that single out one service (drop_service). */
#ifndef SR_SERVICES_H
#define SR_SERVICES_H 1

#define SR_PORT_RTSP 554       /* TCP: video control (RTSP) to the server */
#define SR_PORT_RTP 5004       /* UDP: video media (RTP) to the client */
#define SR_PORT_CHAT 5222      /* TCP: chat messages to a user */
#define SR_PORT_P2P 6881       /* TCP: file chunks from a peer */
#define SR_PORT_HTTP 80        /* TCP: web pages from a server */
#define SR_PORT_SMTP 25        /* TCP: mail to a server or a user */
#define SR_PORT_BROADCAST 7777 /* UDP: broadcast announcements */

/* simtraffic's exit status when it could not write its KPI records: it
 * stops at once (its records would be incomplete), and the Mininet runtime
 * reports the exit to simrun, which stops the run (docs/protocols.md). */
#define SR_AGENT_EXIT_DISK_FULL 3  /* ENOSPC or EDQUOT */
#define SR_AGENT_EXIT_WRITE 4      /* any other write error */

#endif
