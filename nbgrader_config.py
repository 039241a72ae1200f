"""nbgrader configuration: this repository is the course directory."""

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "cnnkit"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# Keep only notebooks (and nothing else) in the release.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "cnnkit_evidence"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.enforce_metadata = True

# Autograding: a kernel per notebook, a generous limit per cell (training cells).
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300
