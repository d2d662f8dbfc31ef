/// Slim projections of Kubernetes objects and (later) the REST client live here.
enum KubeClientModule {}
