print("assets: to be implemented")
