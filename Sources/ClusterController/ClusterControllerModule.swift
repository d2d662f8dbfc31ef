enum ClusterControllerModule {}
