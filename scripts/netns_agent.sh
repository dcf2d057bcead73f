#!/bin/sh
# Open MPI's remote-launch agent (--mca plm_rsh_agent, in ssh's place) for two "nodes" that are network
# namespaces of this machine (scripts/mpi_scaling.sh makes them): `netns_agent.sh HOST COMMAND...` runs
# COMMAND, as ssh would on HOST, inside the namespace that holds HOST's address.
host=$1
shift
case "$host" in
  10.77.0.1) ns=xgrad_node_a ;;
  10.77.0.2) ns=xgrad_node_b ;;
  *) echo "netns_agent.sh: no namespace holds $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" /bin/sh -c "$*"
